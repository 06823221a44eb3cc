package org.intrustd.appliance.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.TreeMap;

/**
 * The host uid each app runs as when the daemon runs as root: one per app, allocated once and
 * kept in {@code app-uids} in the state directory, so that an app's files keep their owner
 * across restarts and no two apps share one. The range is far above the ones distributions
 * hand to people and to subordinate-id ranges. Thread-safe.
 */
final class AppUids {
  static final int FIRST = 3_000_000;
  private static final int LAST = FIRST + 1_000_000;

  private final Path file;
  private final Map<String, Integer> uids = new TreeMap<>();

  AppUids(Path file) {
    this.file = file;
    try {
      if (Files.exists(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          String[] parts = line.trim().split("\\s+");
          if (parts.length == 2) {
            int uid = Integer.parseInt(parts[1]);
            if (uid >= FIRST && uid < LAST) {
              uids.put(parts[0], uid);
            }
          }
        }
      }
    } catch (IOException | NumberFormatException e) {
      throw new org.intrustd.appliance.apps.AppException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  synchronized int uidFor(String appId) {
    Integer known = uids.get(appId);
    if (known != null) {
      return known;
    }
    int next = uids.values().stream().mapToInt(Integer::intValue).max().orElse(FIRST - 1) + 1;
    if (next >= LAST) {
      throw new org.intrustd.appliance.apps.AppException("no app uids left in " + file);
    }
    uids.put(appId, next);
    save();
    return next;
  }

  private void save() {
    StringBuilder out = new StringBuilder();
    uids.forEach((id, uid) -> out.append(id).append(' ').append(uid).append('\n'));
    try {
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, out, StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new org.intrustd.appliance.apps.AppException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
