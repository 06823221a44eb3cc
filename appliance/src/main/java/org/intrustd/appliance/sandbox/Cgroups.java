package org.intrustd.appliance.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppManifest.Limits;

/**
 * Per-app resource limits through the kernel's control groups: memory (an app over its limit
 * is killed by the kernel, not the daemon), number of processes, and CPU share. Handles the
 * unified v2 hierarchy most hosts have and the v1 controllers some hosts (these build machines
 * among them) still mount; whatever cannot be applied is listed by {@link #notApplied} so the
 * daemon can say so at start-up instead of pretending.
 */
public final class Cgroups {
  private static final String GROUP = "intrustd-apps";
  private static final List<String> CONTROLLERS = List.of("memory", "pids", "cpu");

  /** Where app groups are made, per controller (v1), or one directory for all (v2). */
  private final Map<String, Path> bases;
  private final boolean v2;
  private final List<String> problems;

  private Cgroups(Map<String, Path> bases, boolean v2, List<String> problems) {
    this.bases = bases;
    this.v2 = v2;
    this.problems = problems;
  }

  /** Finds this process's control groups and prepares a parent group for apps under them. */
  public static Cgroups detect() {
    List<String> problems = new ArrayList<>();
    try {
      List<String> mountinfo = Files.readAllLines(Path.of("/proc/self/mountinfo"));
      List<String> own = Files.readAllLines(Path.of("/proc/self/cgroup"));
      Map<String, Path> v1 = v1Bases(mountinfo, own, problems);
      if (!v1.isEmpty()) {
        return new Cgroups(v1, false, problems);
      }
      Optional<Path> v2 = v2Base(mountinfo, own, problems);
      if (v2.isPresent()) {
        Map<String, Path> all = new LinkedHashMap<>();
        CONTROLLERS.forEach(c -> all.put(c, v2.get()));
        return new Cgroups(all, true, problems);
      }
    } catch (IOException | RuntimeException e) {
      problems.add("cannot read this process's control groups: " + e.getMessage());
    }
    if (problems.isEmpty()) {
      problems.add("no control groups are mounted");
    }
    return new Cgroups(Map.of(), false, problems);
  }

  private static Map<String, Path> v1Bases(List<String> mountinfo, List<String> own, List<String> problems) {
    Map<String, Path> bases = new LinkedHashMap<>();
    for (String controller : CONTROLLERS) {
      Optional<Path> mount = mountinfo.stream().map(l -> l.split(" - ", 2)).filter(p -> p.length == 2)
          .filter(p -> p[1].startsWith("cgroup ") && List.of(p[1].split(" ")[2].split(",")).contains(controller))
          .map(p -> Path.of(p[0].split(" ")[4])).findFirst();
      Optional<String> path = own.stream().map(l -> l.split(":", 3)).filter(p -> p.length == 3)
          .filter(p -> List.of(p[1].split(",")).contains(controller)).map(p -> p[2]).findFirst();
      if (mount.isEmpty() || path.isEmpty()) {
        continue;
      }
      Path base = mount.get().resolve(path.get().substring(1)).resolve(GROUP);
      try {
        Files.createDirectories(base);
        bases.put(controller, base);
      } catch (IOException e) {
        problems.add("cgroup v1 " + controller + ": cannot create " + base + " (" + e.getMessage() + ")");
      }
    }
    return bases;
  }

  /**
   * In v2 a group that holds processes cannot hand controllers to children, so the daemon
   * first moves itself into a leaf of its own group (as systemd's delegation expects).
   */
  private static Optional<Path> v2Base(List<String> mountinfo, List<String> own, List<String> problems)
      throws IOException {
    Optional<Path> mount = mountinfo.stream().map(l -> l.split(" - ", 2)).filter(p -> p.length == 2)
        .filter(p -> p[1].startsWith("cgroup2 ")).map(p -> Path.of(p[0].split(" ")[4])).findFirst();
    Optional<String> path = own.stream().filter(l -> l.startsWith("0::")).map(l -> l.substring(3)).findFirst();
    if (mount.isEmpty() || path.isEmpty()) {
      return Optional.empty();
    }
    Path mine = mount.get().resolve(path.get().substring(1));
    List<String> available = List.of(Files.readString(mine.resolve("cgroup.controllers")).trim().split("\\s+"));
    List<String> wanted = CONTROLLERS.stream().filter(available::contains).toList();
    if (wanted.isEmpty()) {
      problems.add("cgroup v2 at " + mine + " offers none of " + CONTROLLERS + " to this process");
      return Optional.empty();
    }
    try {
      Path leaf = mine.resolve("intrustd-daemon");
      Files.createDirectories(leaf);
      Files.writeString(leaf.resolve("cgroup.procs"), Long.toString(ProcessHandle.current().pid()));
      String enable = String.join(" ", wanted.stream().map(c -> "+" + c).toList());
      Files.writeString(mine.resolve("cgroup.subtree_control"), enable);
      Path base = mine.resolve(GROUP);
      Files.createDirectories(base);
      Files.writeString(base.resolve("cgroup.subtree_control"), enable);
      return Optional.of(base);
    } catch (IOException e) {
      problems.add("cgroup v2 at " + mine + ": cannot delegate controllers (" + e.getMessage() + ")");
      return Optional.empty();
    }
  }

  /** The limits that will hold, e.g. "cgroup v1: memory, pids, cpu". */
  public String inForce() {
    return bases.isEmpty() ? "none" : (v2 ? "cgroup v2: " : "cgroup v1: ") + String.join(", ", bases.keySet());
  }

  /** What could not be applied and why; empty when every limit holds. */
  public List<String> notApplied() {
    List<String> out = new ArrayList<>(problems);
    CONTROLLERS.stream().filter(c -> !bases.containsKey(c)).forEach(c -> out.add("no " + c + " limit"));
    return out;
  }

  public boolean limits(String controller) {
    return bases.containsKey(controller);
  }

  /** Creates (or reuses) the group of one app and writes its limits. */
  public AppGroup create(String appId, Limits limits) {
    Map<String, Path> dirs = new LinkedHashMap<>();
    try {
      for (Map.Entry<String, Path> e : bases.entrySet()) {
        Path dir = e.getValue().resolve(appId);
        if (!dirs.containsValue(dir)) {
          Files.createDirectories(dir);
        }
        dirs.put(e.getKey(), dir);
      }
      if (v2) {
        write(dirs.get("memory"), "memory.max", Long.toString(limits.memoryBytes()));
        writeIfPresent(dirs.get("memory"), "memory.swap.max", "0");
        write(dirs.get("pids"), "pids.max", Integer.toString(limits.processes()));
        write(dirs.get("cpu"), "cpu.weight", Integer.toString(limits.cpuWeight()));
      } else {
        if (dirs.containsKey("memory")) {
          Path m = dirs.get("memory");
          // memsw is memory+swap and must stay >= memory: lower memory first when shrinking.
          writeIfPresent(m, "memory.memsw.limit_in_bytes", "-1");
          write(m, "memory.limit_in_bytes", Long.toString(limits.memoryBytes()));
          writeIfPresent(m, "memory.memsw.limit_in_bytes", Long.toString(limits.memoryBytes()));
        }
        write(dirs.get("pids"), "pids.max", Integer.toString(limits.processes()));
        // v1 shares default to 1024 where v2 weights default to 100.
        write(dirs.get("cpu"), "cpu.shares", Integer.toString(Math.max(2, limits.cpuWeight() * 1024 / 100)));
      }
    } catch (IOException e) {
      throw new AppException("cannot set the resource limits of app '" + appId + "': " + e.getMessage(), e);
    }
    return new AppGroup(List.copyOf(new java.util.LinkedHashSet<>(dirs.values())), v2);
  }

  private static void write(Path dir, String file, String value) throws IOException {
    if (dir != null) {
      Files.writeString(dir.resolve(file), value);
    }
  }

  private static void writeIfPresent(Path dir, String file, String value) {
    if (dir != null && Files.exists(dir.resolve(file))) {
      try {
        Files.writeString(dir.resolve(file), value);
      } catch (IOException ignored) {
        // optional knob (swap accounting may be off)
      }
    }
  }

  /** One app's groups: the launcher puts the app's first process in them before it runs. */
  public record AppGroup(List<Path> dirs, boolean v2) {
    public List<Path> procsFiles() {
      return dirs.stream().map(d -> d.resolve("cgroup.procs")).toList();
    }

    /** How many times the kernel killed a process of the app for exceeding its memory. */
    public long oomKills() {
      for (Path d : dirs) {
        Path f = d.resolve(v2 ? "memory.events" : "memory.oom_control");
        if (Files.exists(f)) {
          try {
            return Files.readAllLines(f).stream().filter(l -> l.startsWith("oom_kill "))
                .mapToLong(l -> Long.parseLong(l.substring(9).trim())).sum();
          } catch (IOException | NumberFormatException e) {
            return 0;
          }
        }
      }
      return 0;
    }

    /** Removes the groups once the app's processes are gone (the kernel refuses otherwise). */
    public void remove() {
      for (Path d : dirs) {
        try {
          Files.deleteIfExists(d);
        } catch (IOException ignored) {
          // still busy: the group is reused on the next start
        }
      }
    }
  }
}
