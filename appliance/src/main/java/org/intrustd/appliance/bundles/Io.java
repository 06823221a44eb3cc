package org.intrustd.appliance.bundles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** File and digest helpers shared by the bundle classes. */
final class Io {
  private Io() {}

  static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /** The SHA-256 of everything the stream yields. */
  static byte[] sha256(InputStream in) throws IOException {
    MessageDigest d = sha256();
    byte[] buffer = new byte[64 * 1024];
    for (int n; (n = in.read(buffer)) != -1; ) {
      d.update(buffer, 0, n);
    }
    return d.digest();
  }

  static void drain(InputStream in) throws IOException {
    in.transferTo(OutputStream.nullOutputStream());
  }

  /** An I/O failure in words: the JDK's file exceptions carry only the path as their message. */
  static String why(IOException e) {
    String what = switch (e) {
      case NoSuchFileException x -> "no such file or directory: ";
      case AccessDeniedException x -> "permission denied: ";
      case FileAlreadyExistsException x -> "already exists: ";
      case NotDirectoryException x -> "not a directory: ";
      default -> "";
    };
    return what + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
  }

  /** Renames atomically where the file system can, replacing the target. */
  static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  static void deleteQuietly(Path file) {
    if (file != null) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException ignored) {
        // Best effort: the caller is already reporting the failure that matters.
      }
    }
  }

  /** Deletes a tree without following symbolic links; logs what it cannot delete. */
  static void deleteTree(Path dir) {
    try {
      Files.walkFileTree(dir, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
          Files.delete(f);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
          Files.delete(d);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      System.getLogger(Io.class.getName()).log(System.Logger.Level.WARNING, "cannot remove " + dir + ": " + why(e));
    }
  }
}
