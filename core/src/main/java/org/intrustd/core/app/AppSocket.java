package org.intrustd.core.app;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/** For apps written in Java: the Unix socket the daemon names in {@code INTRUSTD_APP_SOCKET} (docs/apps.md). */
public final class AppSocket {
  private AppSocket() {}

  /**
   * Removes a socket left behind by a killed process, which would make bind fail. Anything
   * else at that path is a misconfiguration, and not ours to delete.
   */
  public static void deleteStale(Path socket) throws IOException {
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException absent) {
      return;
    }
    if (!attributes.isOther()) {
      throw new FileAlreadyExistsException(socket.toString(), null, "exists and is not a socket");
    }
    Files.delete(socket);
  }
}
