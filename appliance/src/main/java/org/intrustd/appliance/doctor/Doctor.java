package org.intrustd.appliance.doctor;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.intrustd.appliance.sandbox.Cgroups;
import org.intrustd.appliance.sandbox.SeccompFilter;

/**
 * {@code intrustd doctor}: checks what an appliance needs from its host and says what to fix.
 * Each check is independent and never throws; a failed check is something the appliance
 * cannot work without, a warning something it works without but worse.
 */
public final class Doctor {
  /** The outcome of one check; {@code fix} is empty when there is nothing to do. */
  public record Check(String name, Status status, String detail, String fix) {}

  public enum Status {
    OK, WARN, FAIL
  }

  static final long MIN_FREE_BYTES = 1L << 30;
  private static final Duration PROCESS_PATIENCE = Duration.ofSeconds(20);

  private final Path stateDir;
  private final Optional<URI> flock;
  private final Path bwrap;

  /** {@code bwrap} is where bubblewrap is expected (tests point it elsewhere). */
  public Doctor(Path stateDir, Optional<URI> flock, Path bwrap) {
    this.stateDir = stateDir.toAbsolutePath();
    this.flock = flock;
    this.bwrap = bwrap;
  }

  public static Doctor forHost(Path stateDir, Optional<URI> flock) {
    return new Doctor(stateDir, flock, Path.of("/usr/bin/bwrap"));
  }

  public List<Check> run() {
    List<Check> out = new ArrayList<>();
    out.add(java());
    out.add(bubblewrap());
    out.add(seccomp());
    out.add(cgroups());
    out.add(command("socat", "TCP apps and app internet access need it", "apt-get install socat"));
    out.add(stateDirectory());
    out.add(diskSpace());
    out.add(clock());
    flock.ifPresent(uri -> out.add(flock(uri)));
    return out;
  }

  private static Check java() {
    int feature = Runtime.version().feature();
    return feature >= 21
        ? new Check("java", Status.OK, "Java " + Runtime.version() + " at " + System.getProperty("java.home"), "")
        : new Check("java", Status.FAIL, "Java " + feature + " is too old", "install a JDK 21 or later");
  }

  private Check bubblewrap() {
    if (!Files.isExecutable(bwrap)) {
      return new Check("sandbox", Status.FAIL, "bubblewrap is not installed at " + bwrap,
          "apt-get install bubblewrap (apps refuse to start without it, unless run with --no-sandbox, which isolates nothing)");
    }
    // The namespaces the launcher asks for, on a trivial command.
    Result r = exec(List.of(bwrap.toString(), "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--proc", "/proc", "--dev", "/dev", "/usr/bin/true"));
    if (r.exit() == 0) {
      return new Check("sandbox", Status.OK, "bubblewrap creates user, PID, network and mount namespaces", "");
    }
    return new Check("sandbox", Status.FAIL, "bubblewrap cannot create namespaces: " + r.output().strip(),
        "allow unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1 (Debian), or"
            + " kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 24.04+); or run the daemon as root");
  }

  private static Check seccomp() {
    boolean kernel;
    try {
      kernel = Files.readAllLines(Path.of("/proc/self/status")).stream().anyMatch(l -> l.startsWith("Seccomp:"));
    } catch (IOException e) {
      kernel = false;
    }
    if (!kernel) {
      return new Check("seccomp", Status.FAIL, "the kernel does not offer seccomp", "use a kernel built with CONFIG_SECCOMP");
    }
    return SeccompFilter.forThisMachine().isPresent()
        ? new Check("seccomp", Status.OK, SeccompFilter.deniedCount() + " system calls denied to apps", "")
        : new Check("seccomp", Status.FAIL, "no seccomp filter for " + System.getProperty("os.arch") + " yet",
            "run the appliance on x86_64");
  }

  private static Check cgroups() {
    Cgroups c = Cgroups.detect();
    List<String> missing = c.notApplied();
    return missing.isEmpty()
        ? new Check("limits", Status.OK, c.inForce(), "")
        : new Check("limits", Status.WARN, "in force: " + c.inForce() + "; missing: " + String.join("; ", missing),
            "run the daemon as root, or under systemd with Delegate=yes, so that it can limit each app's memory,"
                + " processes and CPU");
  }

  private static Check command(String name, String why, String fix) {
    boolean found = List.of("/usr/bin/", "/bin/", "/usr/local/bin/").stream()
        .anyMatch(d -> Files.isExecutable(Path.of(d + name)));
    return found ? new Check(name, Status.OK, name + " is installed", "")
        : new Check(name, Status.WARN, name + " is missing: " + why, fix);
  }

  private Check stateDirectory() {
    try {
      Files.createDirectories(stateDir);
      Path probe = Files.createTempFile(stateDir, ".doctor", ".tmp");
      Files.delete(probe);
    } catch (IOException e) {
      return new Check("state", Status.FAIL, "cannot write to " + stateDir + ": " + e.getMessage(),
          "choose another --state directory, or fix its owner and mode");
    }
    for (Path p = stateDir.getParent(); p != null; p = p.getParent()) {
      try {
        if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
          return new Check("state", Status.WARN, stateDir + " is writable, but " + p
              + " does not let other users through, so apps running as their own uid cannot reach their data",
              "chmod o+x " + p + ", or choose a state directory outside it");
        }
      } catch (IOException e) {
        return new Check("state", Status.WARN, "cannot check " + p + ": " + e.getMessage(), "");
      }
    }
    return new Check("state", Status.OK, stateDir + " is writable and reachable by app uids", "");
  }

  private Check diskSpace() {
    try {
      long free = Files.getFileStore(stateDir).getUsableSpace();
      String detail = free / (1 << 20) + " MiB free for " + stateDir;
      return free >= MIN_FREE_BYTES ? new Check("disk", Status.OK, detail, "")
          : new Check("disk", Status.WARN, detail + " (under 1 GiB)", "free some space, or move the state directory");
    } catch (IOException e) {
      return new Check("disk", Status.WARN, "cannot tell the free space of " + stateDir + ": " + e.getMessage(), "");
    }
  }

  private static Check clock() {
    int year = Instant.now().atZone(ZoneOffset.UTC).getYear();
    if (year < 2025) {
      return new Check("clock", Status.FAIL, "the clock says " + Instant.now() + ": tokens and sessions would expire wrongly",
          "set the time (timedatectl set-ntp true)");
    }
    Result r = exec(List.of("timedatectl", "show", "-p", "NTPSynchronized", "--value"));
    if (r.exit() == 0 && r.output().strip().equals("yes")) {
      return new Check("clock", Status.OK, "synchronised (" + Instant.now() + ")", "");
    }
    return new Check("clock", Status.WARN, "cannot tell whether the clock is synchronised (" + Instant.now() + ")",
        "enable time synchronisation: timedatectl set-ntp true");
  }

  private static Check flock(URI uri) {
    URI client = URI.create(uri.toString().replaceAll("/+$", "") + "/client");
    CompletableFuture<String> first = new CompletableFuture<>();
    try {
      WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
          .buildAsync(client, new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
              text.append(data);
              if (last) {
                first.complete(text.toString());
              }
              w.request(1);
              return null;
            }

            @Override
            public void onError(WebSocket w, Throwable error) {
              first.completeExceptionally(error);
            }
          }).get(5, TimeUnit.SECONDS);
      String hello = first.get(5, TimeUnit.SECONDS);
      ws.abort();
      return hello.contains("\"hello\"")
          ? new Check("flock", Status.OK, "the flock at " + uri + " answers", "")
          : new Check("flock", Status.FAIL, uri + " answered something that is not a flock's hello", "check the URL");
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return new Check("flock", Status.FAIL, "cannot reach the flock at " + uri + ": " + cause,
          "check the URL and that the flock runs (intrustd flock), and the network between them");
    }
  }

  private record Result(int exit, String output) {}

  private static Result exec(List<String> command) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
      byte[] out = p.getInputStream().readNBytes(16 * 1024);
      if (!p.waitFor(PROCESS_PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, "timed out");
      }
      return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    } catch (IOException e) {
      return new Result(-1, e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }
}
