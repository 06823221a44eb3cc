package org.intrustd.appliance.sandbox;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.stream.Stream;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppLauncher;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.apps.AppPaths;
import org.intrustd.appliance.apps.GracefulStop;
import org.intrustd.appliance.apps.InstalledApp;
import org.intrustd.core.log.RotatingLog;

/**
 * Runs every app in a bubblewrap sandbox: new user, PID, IPC, UTS, mount, cgroup and network
 * namespaces (so only {@code lo}), an unprivileged uid, the host's {@code /usr} read-only, its
 * code read-only at {@code /app}, its data at {@code /data}, a private {@code /tmp}, and the
 * directory of its socket at {@code /run/intrustd}; a seccomp filter; and cgroup limits.
 *
 * <p>The chain is {@code bash → [setpriv →] bwrap → app}. bash (still the daemon's user) joins
 * the app's cgroups before anything runs, so that no child escapes them; {@code setpriv} gives
 * each app its own host uid when the daemon is root, so that even outside its namespaces an
 * app owns nothing of the others. bubblewrap then runs as that uid, so every directory it binds
 * must be reachable by it: the launcher makes the state directories it creates searchable
 * (never listable) by others and names any parent that is not.
 */
public final class SandboxLauncher implements AppLauncher {
  private static final System.Logger LOG = System.getLogger("intrustd.sandbox");
  /** The uid and gid apps see inside their sandbox. */
  static final int INNER_ID = 1000;
  static final String SOCKET_DIR = "/run/intrustd";
  /** Host files an app's libraries and runtimes look for; bound read-only when present. */
  private static final List<String> HOST_ETC = List.of("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
      "ssl", "ca-certificates", "localtime", "mime.types", "java-17-openjdk", "java-21-openjdk", "java-25-openjdk");
  /** bubblewrap reads the seccomp program from this descriptor, which bash opens. */
  private static final int SECCOMP_FD = 10;
  /**
   * Joins the cgroups named by the first arguments, opens the seccomp program on fd 10 and
   * execs the rest. Paths are arguments, never spliced into the script.
   */
  private static final String JOIN_AND_EXEC = """
      n=$1; shift
      while [ "$n" -gt 0 ]; do echo $$ > "$1" || { echo "intrustd: cannot join cgroup $1" >&2; exit 125; }; shift; n=$((n-1)); done
      seccomp=$1; shift
      exec "$@" 10<"$seccomp"
      """;

  /** The port, on the sandbox's loopback, of the way to the daemon's egress proxy. */
  static final int EGRESS_PORT = 3128;
  private static final String BRIDGES = """
      socat TCP-LISTEN:%d,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:"$1" &
      if [ -n "$3" ]; then socat UNIX-LISTEN:"$2",fork,mode=600 TCP:127.0.0.1:"$3" & fi
      shift 3
      exec "$@"
      """.formatted(EGRESS_PORT);

  private final Path bwrap;
  private final Path seccompFile;
  private final Cgroups cgroups;
  private final Optional<AppUids> uids;
  private final String javaHome;
  private final Path stateDir;

  private SandboxLauncher(Path stateDir, Path bwrap, Path seccompFile, Cgroups cgroups, Optional<AppUids> uids) {
    this.stateDir = stateDir.toAbsolutePath();
    this.bwrap = bwrap;
    this.seccompFile = seccompFile;
    this.cgroups = cgroups;
    this.uids = uids;
    this.javaHome = System.getProperty("java.home");
  }

  /** Checks that bubblewrap runs here and prepares the seccomp program and cgroups. */
  public static SandboxLauncher create(Path stateDir) {
    Path bwrap = Stream.of("/usr/bin/bwrap", "/usr/local/bin/bwrap").map(Path::of).filter(Files::isExecutable)
        .findFirst().orElseThrow(() -> new AppException("bubblewrap is not installed (Debian: apt-get install"
            + " bubblewrap); to run apps without a sandbox, which isolates nothing, pass --no-sandbox"));
    byte[] filter = SeccompFilter.forThisMachine().orElseThrow(() -> new AppException(
        "there is no seccomp filter for " + System.getProperty("os.arch") + " yet; apps cannot be sandboxed here"));
    try {
      Path dir = Files.createDirectories(stateDir.resolve("run"));
      Path seccomp = dir.resolve("seccomp.bpf");
      Files.write(seccomp, filter);
      boolean root = "root".equals(System.getProperty("user.name")) || isRootByProc();
      Optional<AppUids> uids = root ? Optional.of(new AppUids(stateDir.resolve("app-uids"))) : Optional.empty();
      SandboxLauncher launcher = new SandboxLauncher(stateDir, bwrap, seccomp, Cgroups.detect(), uids);
      LOG.log(Level.INFO, "sandbox: {0}", launcher.describeSetup());
      launcher.cgroups.notApplied().forEach(p -> LOG.log(Level.WARNING, "sandbox limit not applied: {0}", p));
      return launcher;
    } catch (IOException e) {
      throw new AppException("cannot prepare the sandbox: " + e.getMessage(), e);
    }
  }

  private static boolean isRootByProc() {
    try {
      return Files.readAllLines(Path.of("/proc/self/status")).stream()
          .anyMatch(l -> l.startsWith("Uid:") && l.split("\\s+")[2].equals("0"));
    } catch (IOException e) {
      return false;
    }
  }

  /** One line for the start-up log: what isolation is in force. */
  public String describeSetup() {
    return "bubblewrap with seccomp (" + SeccompFilter.DENIED.size() + " system calls denied); limits: "
        + cgroups.inForce() + "; uids: " + (uids.isPresent() ? "one host uid per app" : "the daemon's own uid");
  }

  public List<String> limitsNotApplied() {
    return cgroups.notApplied();
  }

  @Override
  public RunningApp launch(InstalledApp app, AppPaths paths) {
    AppManifest m = app.manifest();
    int uid = uids.map(u -> u.uidFor(app.id())).orElse(-1);
    try {
      for (String volume : m.volumes()) {
        Files.createDirectories(paths.dataDir().resolve(volume));
      }
      prepare(paths, uid);
    } catch (IOException e) {
      throw new AppException("cannot prepare the sandbox of app '" + app.id() + "': " + e.getMessage(), e);
    }
    Cgroups.AppGroup group = cgroups.create(app.id(), m.limits());
    long oomBefore = group.oomKills();
    if (uid >= 0) {
      List.of(app.directory(), paths.dataDir(), paths.socketDir(), paths.scratchDir()).forEach(SandboxLauncher::requireReachable);
    }
    List<String> command = command(app, paths, uid, group);
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/bin:/bin");
    try {
      Process p = pb.start();
      Thread log = RotatingLog.follow(p.getInputStream(), paths.logFile(), RotatingLog.MAX_BYTES, RotatingLog.KEEP);
      return new Sandboxed(p, app, group, oomBefore, log);
    } catch (IOException e) {
      throw new AppException("cannot start app '" + app.id() + "': " + e.getMessage(), e);
    }
  }

  /** Directories the app writes belong to its uid; generated files are the daemon's, read-only. */
  private void prepare(AppPaths paths, int uid) throws IOException {
    for (Path dir : List.of(paths.dataDir(), paths.socketDir())) {
      Files.createDirectories(dir);
      if (uid >= 0 && !Integer.valueOf(uid).equals(Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS))) {
        chownTree(dir, uid);
      }
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
    }
    Path etc = Files.createDirectories(paths.scratchDir().resolve("etc"));
    for (Path p = etc; p != null && !p.equals(stateDir.getParent()); p = p.getParent()) {
      searchableByOthers(p);
    }
    searchableByOthers(paths.dataDir().getParent());
    Files.writeString(etc.resolve("passwd"), "app:x:" + INNER_ID + ":" + INNER_ID + ":app:/data:/bin/sh\n"
        + "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
    Files.writeString(etc.resolve("group"), "app:x:" + INNER_ID + ":\nnogroup:x:65534:\n");
    Files.writeString(etc.resolve("hosts"), "127.0.0.1 localhost app\n::1 localhost ip6-localhost\n");
    Files.writeString(etc.resolve("nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files\n");
  }

  /** Adds o+x to a directory the daemon owns: others may pass through it, not list it. */
  private static void searchableByOthers(Path dir) throws IOException {
    if (Files.getOwner(dir).getName().equals(System.getProperty("user.name"))) {
      Set<PosixFilePermission> perms = new HashSet<>(Files.getPosixFilePermissions(dir));
      if (perms.add(PosixFilePermission.OTHERS_EXECUTE)) {
        Files.setPosixFilePermissions(dir, perms);
      }
    }
  }

  /** Every directory above {@code path} must let others through, or bubblewrap cannot bind it. */
  static void requireReachable(Path path) {
    for (Path p = path.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
      try {
        if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
          throw new AppException("apps run as their own uid and cannot reach " + path + ": " + p
              + " does not let others through (chmod o+x " + p + "), or choose a state directory outside it");
        }
      } catch (IOException e) {
        throw new AppException("cannot check " + p + ": " + e.getMessage(), e);
      }
    }
  }

  /** Data first created by an unsandboxed run (or another uid) is handed to the app's uid. */
  private static void chownTree(Path dir, int uid) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.toList()) {
        Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(p, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
      }
    }
  }

  /** The whole command line: bash (cgroups, seccomp fd), setpriv (uid), bubblewrap, bridges, the app. */
  List<String> command(InstalledApp app, AppPaths paths, int uid, Cgroups.AppGroup group) {
    AppManifest m = app.manifest();
    List<String> b = new ArrayList<>(List.of(bwrap.toString(), "--unshare-all", "--unshare-user", "--disable-userns",
        "--die-with-parent", "--new-session", "--uid", Integer.toString(INNER_ID), "--gid", Integer.toString(INNER_ID),
        "--hostname", app.id(), "--cap-drop", "ALL", "--clearenv"));
    setenv(b, "PATH", "/usr/local/bin:/usr/bin:/bin");
    setenv(b, "HOME", "/data");
    setenv(b, "TMPDIR", "/tmp");
    setenv(b, "LANG", "C.UTF-8");
    setenv(b, "INTRUSTD_APP_SOCKET", SOCKET_DIR + "/" + paths.socket().getFileName());
    setenv(b, "INTRUSTD_APP_DATA", "/data");
    setenv(b, "INTRUSTD_DAEMON_SOCKET", SOCKET_DIR + "/" + paths.daemonSocket().getFileName());
    for (String proxy : List.of("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")) {
      setenv(b, proxy, "http://127.0.0.1:" + EGRESS_PORT);
    }
    setenv(b, "NO_PROXY", "localhost,127.0.0.1");
    setenv(b, "INTRUSTD_APP_ID", app.id());
    b.addAll(List.of("--ro-bind", "/usr", "/usr"));
    for (String top : List.of("bin", "sbin", "lib", "lib32", "lib64", "libx32")) {
      Path p = Path.of("/", top);
      if (Files.isSymbolicLink(p)) {
        b.addAll(List.of("--symlink", readLink(p), p.toString()));
      } else if (Files.isDirectory(p)) {
        b.addAll(List.of("--ro-bind", p.toString(), p.toString()));
      }
    }
    for (String name : HOST_ETC) {
      b.addAll(List.of("--ro-bind-try", "/etc/" + name, "/etc/" + name));
    }
    for (String name : List.of("passwd", "group", "hosts", "nsswitch.conf")) {
      b.addAll(List.of("--ro-bind", paths.scratchDir().resolve("etc").resolve(name).toString(), "/etc/" + name));
    }
    b.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"));
    b.addAll(List.of("--ro-bind", app.directory().toString(), "/app"));
    b.addAll(List.of("--bind", paths.dataDir().toString(), "/data"));
    b.addAll(List.of("--bind", paths.socketDir().toString(), SOCKET_DIR));
    boolean usesJava = m.command().stream().anyMatch(part -> part.contains("${java}"));
    if (usesJava && !Path.of(javaHome).startsWith("/usr/")) {
      b.addAll(List.of("--ro-bind", javaHome, javaHome));
    }
    b.addAll(List.of("--chdir", "/app", "--seccomp", Integer.toString(SECCOMP_FD), "--"));
    // socat, inside the sandbox, is its only way out: 127.0.0.1:3128 carries to the daemon's
    // egress proxy (which refuses everything the owner has not granted), and for an app that
    // listens on TCP, the daemon's socket carries to that port. The app is exec'd last, so its
    // exit ends the sandbox.
    String appSocket = SOCKET_DIR + "/" + paths.socket().getFileName();
    String tcpPort = m.listen() instanceof AppManifest.Listen.TcpPort(int port) ? Integer.toString(port) : "";
    b.addAll(List.of("/bin/sh", "-c", BRIDGES, "intrustd-bridges", SOCKET_DIR + "/" + paths.egressSocket().getFileName(),
        appSocket, tcpPort));
    String java = Path.of(javaHome, "bin", "java").toString();
    m.command().forEach(part -> b.add(part.replace("${java}", java).replace("${data}", "/data")));

    List<String> cmd = new ArrayList<>(List.of("/bin/bash", "-c", JOIN_AND_EXEC, "intrustd-sandbox"));
    List<Path> procs = group.procsFiles();
    cmd.add(Integer.toString(procs.size()));
    procs.forEach(p -> cmd.add(p.toString()));
    cmd.add(seccompFile.toString());
    if (uid >= 0) {
      cmd.addAll(List.of("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups", "--"));
    }
    cmd.addAll(b);
    return cmd;
  }

  private static void setenv(List<String> b, String name, String value) {
    b.addAll(List.of("--setenv", name, value));
  }

  private static String readLink(Path p) {
    try {
      return Files.readSymbolicLink(p).toString();
    } catch (IOException e) {
      throw new AppException("cannot read the link " + p + ": " + e.getMessage(), e);
    }
  }

  /** A sandbox; its process is the outer bubblewrap, which exits when the app does. */
  private record Sandboxed(Process process, InstalledApp app, Cgroups.AppGroup group, long oomBefore, Thread log)
      implements RunningApp {
    @Override
    public boolean isAlive() {
      return process.isAlive();
    }

    @Override
    public void stop() {
      // SIGTERM to the app itself (bubblewrap does not forward it); the sandbox ends with it.
      GracefulStop.stop(process, p -> !isBwrap(p));
      group.remove();
    }

    /** Signalling bubblewrap's own init would tear the namespace down at once. */
    private static boolean isBwrap(ProcessHandle p) {
      return p.info().command().map(c -> c.endsWith("/bwrap")).orElse(false);
    }

    @Override
    public String describe() {
      return app.id() + " (sandbox pid " + process.pid() + ")";
    }

    @Override
    public String exitReason() {
      if (process.isAlive()) {
        return "running";
      }
      RotatingLog.drain(log);
      String how = "exited with status " + process.exitValue();
      return group.oomKills() > oomBefore
          ? how + ": killed for exceeding its memory limit of " + app.manifest().limits().memoryMiB() + " MiB"
          : how;
    }
  }
}
