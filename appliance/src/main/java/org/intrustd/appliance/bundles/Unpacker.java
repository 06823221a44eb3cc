package org.intrustd.appliance.bundles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.intrustd.appliance.bundles.BundleException.Reason;

/**
 * Writes the entries of an archive under a fresh directory that nobody else writes to, refusing
 * anything that could reach outside it or surprise the system (bundles.md "Unpacking"): absolute
 * paths, "..", symbolic links that could leave the tree, hard links, devices, FIFOs, duplicates,
 * entries below a file or a link, and more entries or bytes than the limits allow. Files get
 * mode 0755 if any execute bit is set and 0644 otherwise; directories 0755. Not thread-safe.
 */
final class Unpacker {
  static final int MAX_PATH_BYTES = 4096;
  static final int MAX_NAME_BYTES = 255;
  static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> EXEC_MODE = DIR_MODE;
  private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r--r--");
  private static final FileAttribute<Set<PosixFilePermission>> DIR_ATTR = PosixFilePermissions.asFileAttribute(DIR_MODE);

  private final Path root;
  private final BundleLimits limits;
  /** Every path written so far, explicit or implied as a parent, with what it is. */
  private final Map<String, TarEntry.Type> written = new HashMap<>();
  /** Directories created only because a deeper entry needed them; an entry may still name them once. */
  private final Set<String> implied = new HashSet<>();
  private int entries;
  private long bytes;

  Unpacker(Path root, BundleLimits limits) {
    this.root = root;
    this.limits = limits;
  }

  void unpackAll(TarReader tar) throws IOException {
    for (Optional<TarEntry> e = tar.next(); e.isPresent(); e = tar.next()) {
      add(e.get(), tar.content());
    }
  }

  private void add(TarEntry e, InputStream content) throws IOException {
    countEntry();
    String path = normalize(e.path());
    switch (e.type()) {
      case FILE, DIRECTORY, SYMLINK -> {}
      case HARDLINK -> throw unsafe(e.path(), "is a hard link (to '" + e.linkTarget() + "'); bundles may not hold hard links");
      case CHAR_DEVICE, BLOCK_DEVICE -> throw unsafe(e.path(), "is a device file");
      case FIFO -> throw unsafe(e.path(), "is a FIFO");
      case OTHER -> throw unsafe(e.path(), "is of a type that bundles may not hold");
    }
    if (path.isEmpty()) {
      if (e.type() != TarEntry.Type.DIRECTORY) {
        throw unsafe(e.path(), "names the bundle's root but is not a directory");
      }
      return; // "./": the root itself, which exists
    }
    if (!claim(path, e.type())) {
      return;
    }
    Path target = root.resolve(path);
    switch (e.type()) {
      case DIRECTORY -> Files.createDirectory(target, DIR_ATTR);
      case SYMLINK -> Files.createSymbolicLink(target, Path.of(checkLink(path, e.linkTarget())));
      case FILE -> writeFile(target, e, content);
      default -> throw new IllegalStateException("refused above: " + e.type());
    }
  }

  private void countEntry() {
    if (++entries > limits.maxEntries()) {
      throw new BundleException(Reason.OVERSIZE, "oversize: the bundle has more than " + limits.maxEntries() + " entries");
    }
  }

  private void writeFile(Path target, TarEntry e, InputStream content) throws IOException {
    bytes += e.size();
    if (bytes > limits.maxUnpackedBytes()) {
      throw new BundleException(Reason.OVERSIZE, "oversize: the bundle unpacks to more than " + limits.maxUnpackedBytes() + " bytes");
    }
    // CREATE_NEW and NOFOLLOW_LINKS: never write through something that is already there.
    try (OutputStream out = Channels.newOutputStream(Files.newByteChannel(target,
        Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)))) {
      content.transferTo(out);
    }
    Files.setPosixFilePermissions(target, (e.mode() & 0111) != 0 ? EXEC_MODE : FILE_MODE);
  }

  /**
   * Records a path, creating the parents it implies. False when it is a directory that was
   * already implied (nothing to create); refuses duplicates and entries below a non-directory.
   */
  private boolean claim(String path, TarEntry.Type type) throws IOException {
    if (written.containsKey(path)) {
      if (type == TarEntry.Type.DIRECTORY && implied.remove(path)) {
        return false;
      }
      throw unsafe(path, "appears twice in the bundle");
    }
    for (int slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', slash + 1)) {
      String parent = path.substring(0, slash);
      TarEntry.Type t = written.get(parent);
      if (t == null) {
        countEntry(); // implied directories count too, or deep paths could create many per entry
        Files.createDirectory(root.resolve(parent), DIR_ATTR);
        written.put(parent, TarEntry.Type.DIRECTORY);
        implied.add(parent);
      } else if (t != TarEntry.Type.DIRECTORY) {
        throw unsafe(path, "lies below '" + parent + "', which is not a directory");
      }
    }
    written.put(path, type);
    return true;
  }

  /** The relative path an entry names, without "." or empty segments; refuses anything else. */
  static String normalize(String raw) {
    if (raw.startsWith("/")) {
      throw unsafe(raw, "is an absolute path");
    }
    if (raw.indexOf('\0') >= 0) {
      throw unsafe(raw, "contains a NUL character");
    }
    if (raw.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      throw unsafe(raw, "is longer than " + MAX_PATH_BYTES + " bytes");
    }
    List<String> parts = new ArrayList<>();
    for (String s : raw.split("/")) {
      if (s.equals("..")) {
        throw unsafe(raw, "contains '..'");
      }
      if (s.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
        throw unsafe(raw, "has a name longer than " + MAX_NAME_BYTES + " bytes");
      }
      if (!s.isEmpty() && !s.equals(".")) {
        parts.add(s);
      }
    }
    return String.join("/", parts);
  }

  /**
   * A link target must be relative, climb with ".." only at its start and no higher than the
   * link's own directory, and then name only plain names. Since no entry may lie below a link,
   * the link's directory is a real one, and by induction every link resolves inside the tree
   * (a purely textual check would not do: "a -> ." then "b -> a/a/.." escapes).
   */
  static String checkLink(String path, String target) {
    if (target.isEmpty() || target.startsWith("/") || target.indexOf('\0') >= 0
        || target.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      throw unsafe(path, "is a link to '" + target + "', which is not a relative path inside the bundle");
    }
    int depth = (int) path.chars().filter(c -> c == '/').count();
    int up = 0;
    boolean climbing = true;
    for (String s : target.split("/", -1)) {
      boolean dots = s.equals("..");
      if (dots && climbing) {
        up++;
      } else if (dots || s.isEmpty() || s.equals(".") || s.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
        throw unsafe(path, "is a link to '" + target + "'; a link may use '..' only at its start and no empty or '.' names");
      } else {
        climbing = false;
      }
    }
    if (up > depth) {
      throw unsafe(path, "is a link to '" + target + "', which points outside the bundle");
    }
    try {
      Path.of(target);
    } catch (InvalidPathException e) {
      throw unsafe(path, "is a link to a target that is not a valid path");
    }
    return target;
  }

  private static BundleException unsafe(String path, String why) {
    return new BundleException(Reason.UNSAFE_ENTRY, "unsafe entry: '" + printable(path) + "' " + why);
  }

  /** Shows hostile names with control characters escaped, so messages stay one readable line. */
  static String printable(String s) {
    StringBuilder out = new StringBuilder();
    s.codePoints().limit(200).forEach(c -> out.append(c < 0x20 || c == 0x7f ? String.format("\\x%02x", c) : Character.toString(c)));
    return s.length() > 200 ? out + "…" : out.toString();
  }
}
