package org.intrustd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.intrustd.backup.Backend;
import org.intrustd.backup.Backup;
import org.intrustd.backup.BackupException;
import org.intrustd.backup.BlobId;
import org.intrustd.backup.Check;
import org.intrustd.backup.Forget;
import org.intrustd.backup.HttpBackend;
import org.intrustd.backup.KeyFile;
import org.intrustd.backup.LocalBackend;
import org.intrustd.backup.Lock;
import org.intrustd.backup.Prune;
import org.intrustd.backup.Repository;
import org.intrustd.backup.Restore;
import org.intrustd.backup.Snapshot;
import org.intrustd.backup.Tree;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** Deduplicated, encrypted backups into a repository (docs/backups.md, docs/spec/backup-repository.md). */
@Command(name = "backup", mixinStandardHelpOptions = true,
    description = "Back up folders into an encrypted, deduplicated repository, and restore them.",
    footer = {"", "The repository is --repo DIR (or $INTRUSTD_BACKUP_REPO), or with --appliance ID a repository of that"
        + " name kept by the appliance's backups app, over the end-to-end link. Its password comes from --password-file,"
        + " $INTRUSTD_BACKUP_PASSWORD or the terminal; the appliance never sees it.",
        "", "Exit codes: 0 done; 1 refused or failed (wrong password, a damaged repository, locked); 2 bad usage;"
            + " 3 backup made, but some files could not be read (each is named)."})
final class BackupCommand {
  static final String PASSWORD_ENV = "INTRUSTD_BACKUP_PASSWORD";
  static final String REPO_ENV = "INTRUSTD_BACKUP_REPO";
  static final int PARTIAL = 3;
  /**
   * The subcommands, in the order help lists them. Not in the annotation: {@link Main} adds only
   * the one named, because building all thirteen by reflection took ~0.09 s of every backup
   * command's start (bench/README.md, "Backups").
   */
  static final List<Class<?>> SUBCOMMANDS = List.of(Init.class, Run.class, Snapshots.class, Ls.class, Diff.class,
      RestoreCommand.class, CheckCommand.class, ForgetCommand.class, PruneCommand.class, Key.class, Unlock.class,
      ScheduleCommand.class, OffsiteCommand.class);
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private BackupCommand() {}

  /** Where the repository is and how to open it; every subcommand has these. */
  static final class RepoOptions {
    @Option(names = {"-r", "--repo"}, paramLabel = "DIR|NAME",
        description = "The repository: a folder, or with --appliance its name there (default: $INTRUSTD_BACKUP_REPO).")
    Path repo;

    @Option(names = "--password-file", paramLabel = "FILE", description = "Read the password from the first line of FILE.")
    Path passwordFile;

    @Option(names = "--retry-lock", paramLabel = "DURATION", defaultValue = "PT0S", converter = DurationConverter.class,
        description = "Wait this long for another process's lock to go (e.g. 30s, 5m).")
    Duration retryLock;

    @Option(names = "--json", description = "Print JSON for scripts.")
    boolean json;

    Path repo(CommandLine cl) {
      if (repo != null) {
        return repo;
      }
      String env = System.getenv(REPO_ENV);
      if (env == null || env.isBlank()) {
        throw new CommandLine.ParameterException(cl, "which repository? give --repo DIR or set " + REPO_ENV);
      }
      return Path.of(env);
    }

    String password(CommandLine cl, boolean twice) {
      if (passwordFile != null) {
        try {
          String line = Files.readAllLines(passwordFile, StandardCharsets.UTF_8).stream().findFirst().orElse("");
          if (line.isEmpty()) {
            throw new CommandLine.ParameterException(cl, passwordFile + " has no password on its first line");
          }
          return line;
        } catch (IOException e) {
          throw new CommandLine.ParameterException(cl, "cannot read " + passwordFile + ": " + e.getMessage());
        }
      }
      String env = System.getenv(PASSWORD_ENV);
      if (env != null && !env.isEmpty()) {
        return env;
      }
      java.io.Console console = System.console();
      if (console == null) {
        throw new CommandLine.ParameterException(cl, "no terminal to ask for the password: use --password-file or set "
            + PASSWORD_ENV);
      }
      char[] first = console.readPassword("repository password: ");
      if (twice) {
        char[] again = console.readPassword("again: ");
        if (first == null || !Arrays.equals(first, again)) {
          throw new CommandLine.ParameterException(cl, "the two passwords differ");
        }
      }
      if (first == null || first.length == 0) {
        throw new CommandLine.ParameterException(cl, "no password given");
      }
      return new String(first);
    }

    @Mixin
    RemoteOptions remote = new RemoteOptions();

    /**
     * Where the repository is: a folder, or with {@code --appliance}, a repository of that name
     * kept by the appliance's backups app, reached over the end-to-end link.
     */
    Backend backend(CommandLine cl) {
      if (!remote.remote()) {
        return new LocalBackend(repo(cl));
      }
      String name = repo != null ? repo.toString() : System.getenv(REPO_ENV);
      if (name == null || !name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
        throw new CommandLine.ParameterException(cl, "with --appliance, --repo is the repository's name on the appliance"
            + " (letters, digits, '.', '_', '-'), e.g. --repo laptop");
      }
      return new HttpBackend(new LinkHttp(Remote.signedIn(cl, remote), "backups"), "/api/repos/" + name,
          "repository " + name + " on appliance " + remote.appliance);
    }

    Repository open(CommandLine cl) throws IOException {
      Backend b = backend(cl);
      try {
        return Repository.open(b, password(cl, false), Clock.systemUTC()).lockWait(retryLock);
      } catch (IOException | RuntimeException e) {
        b.close();
        throw e;
      }
    }
  }

  /** Argon2id's cost for a new key. */
  static final class KdfOptions {
    @Option(names = "--kdf-memory", paramLabel = "MIB", defaultValue = "64",
        description = "Memory Argon2id uses to turn the password into a key (default: ${DEFAULT-VALUE} MiB).")
    int memoryMiB;

    @Option(names = "--kdf-iterations", defaultValue = "3", description = "Argon2id passes (default: ${DEFAULT-VALUE}).")
    int iterations;

    KeyFile.Kdf kdf(CommandLine cl) {
      try {
        return new KeyFile.Kdf(memoryMiB * 1024, iterations, KeyFile.Kdf.DEFAULT.parallelism());
      } catch (BackupException e) {
        throw new CommandLine.ParameterException(cl, e.getMessage());
      }
    }
  }

  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.strip().toLowerCase(Locale.ROOT);
      if (v.startsWith("pt")) {
        return Duration.parse(v);
      }
      long n = Long.parseLong(v.replaceAll("[a-z]+$", ""));
      return switch (v.replaceAll("^[0-9]+", "")) {
        case "", "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> throw new CommandLine.TypeConversionException("a duration is like 30s, 5m or 1h: " + value);
      };
    }
  }

  abstract static class Sub implements Callable<Integer> {
    @Mixin
    RepoOptions repo = new RepoOptions();

    @Spec
    CommandLine.Model.CommandSpec spec;

    CommandLine cl() {
      return spec.commandLine();
    }

    PrintWriter out() {
      return cl().getOut();
    }

    void json(Object value) throws IOException {
      out().println(JSON.writeValueAsString(value));
      out().flush();
    }
  }

  @Command(name = "init", mixinStandardHelpOptions = true, description = "Make a new repository in an empty or new folder.",
      footer = {"", "Example:", "  intrustd backup init --repo /media/disk/backups"})
  static final class Init extends Sub {
    @Mixin
    KdfOptions kdf = new KdfOptions();

    @Override
    public Integer call() throws IOException {
      KeyFile.Kdf cost = kdf.kdf(cl());
      String password = repo.password(cl(), true);
      Backend b = repo.backend(cl());
      try (Repository r = Repository.init(b, password, cost, Repository.Config.defaults(java.util.UUID.randomUUID().toString()),
          Clock.systemUTC())) {
        if (repo.json) {
          json(JSON.createObjectNode().put("repository", b.location()).put("id", r.config().id()));
        } else {
          out().println("made repository " + r.config().id() + " in " + b.location());
          out().println("Keep the password safe: without it the backups cannot be read, by anyone.");
        }
      }
      return 0;
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true, description = "Back up folders or files: a new snapshot.",
      footer = {"", "Examples:", "  intrustd backup run ~/Documents ~/Pictures --repo /media/disk/backups",
          "  intrustd backup run ~ --exclude '*.tmp' --exclude '**/node_modules' --one-file-system --tag daily",
          "", "A folder holding a file named .nobackup is left out (its content; the folder itself is kept)."})
  static final class Run extends Sub {
    @Parameters(paramLabel = "PATH", arity = "1..*", description = "What to back up.")
    List<Path> paths;

    @Option(names = {"-e", "--exclude"}, paramLabel = "GLOB", description = "Leave out what matches (a name or a whole path).")
    List<String> excludes = new ArrayList<>();

    @Option(names = {"-x", "--one-file-system"}, description = "Do not cross into other file systems (mounts).")
    boolean oneFileSystem;

    @Option(names = "--tag", paramLabel = "TAG", description = "Tag the snapshot (forget can keep tags).")
    List<String> tags = new ArrayList<>();

    @Option(names = "--host", description = "The host name to record (default: this machine's).")
    String host;

    @Override
    public Integer call() throws IOException {
      try (Repository r = repo.open(cl())) {
        Backup.Options o = Backup.Options.of(paths).withExcludes(excludes).withOneFileSystem(oneFileSystem).withTags(tags);
        if (host != null) {
          o = o.withHost(host);
        }
        Backup.Progress p = new Backup.Progress();
        Backup.Result result;
        try (Status status = Status.start(cl(), repo.json, () -> String.format(Locale.ROOT, "backing up: %d files, %.1f MiB",
            p.files.get(), p.bytes.get() / 1048576.0))) {
          result = Backup.run(r, o, p);
        }
        Snapshot s = result.snapshot();
        Snapshot.Summary m = s.summary();
        if (repo.json) {
          ObjectNode n = JSON.valueToTree(s);
          n.put("id", s.id());
          n.set("warnings", JSON.valueToTree(result.warnings()));
          json(n);
        } else {
          for (String w : result.warnings()) {
            cl().getErr().println("could not read " + w);
          }
          out().printf(Locale.ROOT, "snapshot %s saved: %d files (%d new, %d changed, %d unchanged), %d folders, %s;"
              + " added %s (%s stored) in %.1f s%n", s.shortId(), m.files(), m.filesNew(), m.filesChanged(),
              m.filesUnchanged(), m.dirs(), size(m.bytes()), size(m.bytesAdded()), size(m.storedAdded()), m.seconds());
        }
        return result.warnings().isEmpty() ? 0 : PARTIAL;
      }
    }
  }

  @Command(name = "snapshots", mixinStandardHelpOptions = true, description = "List the snapshots, oldest first.")
  static final class Snapshots extends Sub {
    @Override
    public Integer call() throws IOException {
      try (Repository r = repo.open(cl())) {
        List<Snapshot> all = r.snapshots();
        if (repo.json) {
          ArrayNode a = JSON.createArrayNode();
          for (Snapshot s : all) {
            ObjectNode n = JSON.valueToTree(s);
            n.put("id", s.id());
            a.add(n);
          }
          json(a);
          return 0;
        }
        out().printf("%-8s  %-19s  %-16s  %-12s  %10s  %s%n", "ID", "TIME", "HOST", "TAGS", "SIZE", "PATHS");
        for (Snapshot s : all) {
          out().printf("%-8s  %-19s  %-16s  %-12s  %10s  %s%n", s.shortId(), local(s.instant()), s.host(),
              s.tags() == null ? "" : String.join(",", s.tags()), s.summary() == null ? "" : size(s.summary().bytes()),
              String.join(" ", s.paths()));
        }
        out().println(all.size() + " snapshots");
        return 0;
      }
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true, description = "List what a snapshot holds (browse it without mounting).",
      footer = {"", "Examples:", "  intrustd backup ls latest", "  intrustd backup ls 1a2b3c4d Documents/taxes"})
  static final class Ls extends Sub {
    @Parameters(index = "0", paramLabel = "SNAPSHOT", description = "A snapshot id (or a unique prefix), or latest.")
    String snapshot;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PATH", description = "Only under this path in the snapshot.")
    String path;

    @Option(names = {"-R", "--recursive"}, description = "List everything below, not only the folder itself.")
    boolean recursive;

    @Override
    public Integer call() throws IOException {
      try (Repository r = repo.open(cl())) {
        Snapshot s = r.findSnapshot(snapshot);
        List<String> prefix = new ArrayList<>();
        Tree t = r.tree(BlobId.parse(s.tree()));
        if (path != null) {
          for (String part : path.split("/")) {
            if (part.isEmpty()) {
              continue;
            }
            Tree.Node n = t.nodes().stream().filter(x -> x.name().equals(part) && x.isDir()).findFirst()
                .orElseThrow(() -> new BackupException("no folder " + path + " in snapshot " + s.shortId()));
            prefix.add(part);
            t = r.tree(BlobId.parse(n.subtree()));
          }
        }
        ArrayNode rows = JSON.createArrayNode();
        list(r, t, String.join("/", prefix), rows);
        if (repo.json) {
          json(rows);
        } else {
          for (var row : rows) {
            out().printf("%s %10s  %s  %s%n", row.get("mode").asText(), row.path("size").isMissingNode() ? ""
                : size(row.get("size").asLong()), local(Instant.ofEpochSecond(0, row.get("mtime").asLong())),
                row.get("path").asText() + (row.get("type").asText().equals("dir") ? "/" : "")
                    + (row.has("target") ? " -> " + row.get("target").asText() : ""));
          }
        }
        return 0;
      }
    }

    private void list(Repository r, Tree t, String at, ArrayNode rows) throws IOException {
      for (Tree.Node n : t.nodes()) {
        String p = at.isEmpty() ? n.name() : at + "/" + n.name();
        ObjectNode row = rows.addObject().put("path", p).put("type", n.type()).put("mode", modeString(n))
            .put("mtime", n.mtime());
        if (n.size() != null) {
          row.put("size", n.size());
        }
        if (n.target() != null) {
          row.put("target", n.target());
        }
        if (recursive && n.isDir()) {
          list(r, r.tree(BlobId.parse(n.subtree())), p, rows);
        }
      }
    }
  }

  @Command(name = "diff", mixinStandardHelpOptions = true, description = "What changed between two snapshots.")
  static final class Diff extends Sub {
    @Parameters(index = "0", paramLabel = "FROM")
    String from;

    @Parameters(index = "1", paramLabel = "TO")
    String to;

    @Override
    public Integer call() throws IOException {
      try (Repository r = repo.open(cl())) {
        Snapshot a = r.findSnapshot(from);
        Snapshot b = r.findSnapshot(to);
        ArrayNode changes = JSON.createArrayNode();
        diff(r, a.tree(), b.tree(), "", changes);
        if (repo.json) {
          json(changes);
        } else {
          for (var c : changes) {
            out().println(c.get("change").asText() + " " + c.get("path").asText());
          }
          out().println(changes.size() + " changes");
        }
        return 0;
      }
    }

    /** Walks both trees; an unchanged folder has the same tree id and is not opened. */
    private void diff(Repository r, String treeA, String treeB, String at, ArrayNode out) throws IOException {
      if (treeA != null && treeA.equals(treeB)) {
        return;
      }
      List<Tree.Node> as = treeA == null ? List.of() : r.tree(BlobId.parse(treeA)).nodes();
      List<Tree.Node> bs = treeB == null ? List.of() : r.tree(BlobId.parse(treeB)).nodes();
      java.util.Map<String, Tree.Node> byName = new java.util.TreeMap<>();
      as.forEach(n -> byName.put(n.name(), n));
      java.util.Map<String, Tree.Node> bByName = new java.util.TreeMap<>();
      bs.forEach(n -> bByName.put(n.name(), n));
      java.util.SortedSet<String> names = new java.util.TreeSet<>(byName.keySet());
      names.addAll(bByName.keySet());
      for (String name : names) {
        Tree.Node x = byName.get(name);
        Tree.Node y = bByName.get(name);
        String p = at.isEmpty() ? name : at + "/" + name;
        if (x == null || y == null) {
          out.addObject().put("change", x == null ? "+" : "-").put("path", p + ((x == null ? y : x).isDir() ? "/" : ""));
        } else if (x.isDir() && y.isDir()) {
          diff(r, x.subtree(), y.subtree(), p, out);
        } else if (!x.type().equals(y.type()) || !java.util.Objects.equals(x.content(), y.content())
            || !java.util.Objects.equals(x.target(), y.target())) {
          out.addObject().put("change", "M").put("path", p);
        } else if (x.mode() != y.mode() || x.mtime() != y.mtime()) {
          out.addObject().put("change", "U").put("path", p);
        }
      }
    }
  }

  @Command(name = "restore", mixinStandardHelpOptions = true,
      description = "Restore a snapshot (or a path in it) into a folder; every chunk is verified as it is read.",
      footer = {"", "Examples:", "  intrustd backup restore latest --target /tmp/restored",
          "  intrustd backup restore 1a2b3c4d --include Documents/taxes --target ~/recovered"})
  static final class RestoreCommand extends Sub {
    @Parameters(index = "0", paramLabel = "SNAPSHOT")
    String snapshot;

    @Option(names = {"-t", "--target"}, required = true, paramLabel = "DIR", description = "Where to restore (existing files are kept).")
    Path target;

    @Option(names = {"-i", "--include"}, paramLabel = "PATH", description = "Only this file or folder of the snapshot.")
    String include;

    @Override
    public Integer call() throws IOException {
      try (Repository r = repo.open(cl())) {
        Snapshot s = r.findSnapshot(snapshot);
        Restore.Progress p = new Restore.Progress();
        Restore.Result result;
        try (Status status = Status.start(cl(), repo.json, () -> String.format(Locale.ROOT, "restoring: %d files, %.1f MiB",
            p.files.get(), p.bytes.get() / 1048576.0))) {
          result = Restore.run(r, s, Optional.ofNullable(include), target, Runtime.getRuntime().availableProcessors(), p);
        }
        if (repo.json) {
          json(result);
        } else {
          result.errors().forEach(e -> cl().getErr().println("not restored: " + e));
          out().printf("restored %d files and %d folders, %s, into %s%n", result.files(), result.dirs(), size(result.bytes()),
              target);
        }
        return result.errors().isEmpty() ? 0 : ControlCommand.REFUSED;
      }
    }
  }

  @Command(name = "check", mixinStandardHelpOptions = true,
      description = "Check the repository's structure; with --read-data, read and verify every byte.")
  static final class CheckCommand extends Sub {
    @Option(names = "--read-data", description = "Read every pack and check every blob (slow: reads the whole repository).")
    boolean readData;

    @Override
    public Integer call() throws IOException {
      try (Repository r = repo.open(cl())) {
        Check.Result c = Check.run(r, readData);
        if (repo.json) {
          json(c);
        } else {
          c.notes().forEach(n -> out().println("note: " + n));
          c.errors().forEach(e -> cl().getErr().println("error: " + e));
          out().printf("%d snapshots, %d packs, %d blobs%s: %s%n", c.snapshots(), c.packs(), c.blobs(),
              readData ? " (" + c.packsRead() + " packs read)" : "", c.ok() ? "no errors" : c.errors().size() + " errors");
        }
        return c.ok() ? 0 : ControlCommand.REFUSED;
      }
    }
  }

  @Command(name = "forget", mixinStandardHelpOptions = true,
      description = "Forget snapshots by a retention policy (per host and paths); --prune then frees their data.",
      footer = {"", "Example:", "  intrustd backup forget --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --prune"})
  static final class ForgetCommand extends Sub {
    @Option(names = "--keep-last", defaultValue = "0", paramLabel = "N") int last;
    @Option(names = "--keep-hourly", defaultValue = "0", paramLabel = "N") int hourly;
    @Option(names = "--keep-daily", defaultValue = "0", paramLabel = "N") int daily;
    @Option(names = "--keep-weekly", defaultValue = "0", paramLabel = "N") int weekly;
    @Option(names = "--keep-monthly", defaultValue = "0", paramLabel = "N") int monthly;
    @Option(names = "--keep-yearly", defaultValue = "0", paramLabel = "N") int yearly;
    @Option(names = "--keep-tag", paramLabel = "TAG") List<String> keepTags = new ArrayList<>();
    @Option(names = {"-n", "--dry-run"}, description = "Only say what would be forgotten.") boolean dryRun;
    @Option(names = "--prune", description = "Then free the data no snapshot needs.") boolean prune;

    @Override
    public Integer call() throws IOException {
      Forget.Policy policy = new Forget.Policy(last, hourly, daily, weekly, monthly, yearly, Set.copyOf(keepTags));
      if (Arrays.stream(new int[] {last, hourly, daily, weekly, monthly, yearly}).anyMatch(n -> n < 0)) {
        throw new CommandLine.ParameterException(cl(), "keep counts are 0 or more");
      }
      try (Repository r = repo.open(cl())) {
        List<Forget.Decision> plan = dryRun ? Forget.plan(r.snapshots(), policy, ZoneId.systemDefault())
            : Forget.run(r, policy, ZoneId.systemDefault());
        Prune.Result pruned = prune && !dryRun ? Prune.run(r) : null;
        if (repo.json) {
          ArrayNode a = JSON.createArrayNode();
          plan.forEach(d -> a.addObject().put("id", d.snapshot().id()).put("time", d.snapshot().time())
              .put("keep", d.keep()).set("reasons", JSON.valueToTree(d.reasons())));
          ObjectNode n = JSON.createObjectNode();
          n.set("snapshots", a);
          if (pruned != null) {
            n.set("prune", JSON.valueToTree(pruned));
          }
          json(n);
        } else {
          for (Forget.Decision d : plan) {
            out().printf("%-6s %s  %s  %s%n", d.keep() ? "keep" : (dryRun ? "would forget" : "forget"), d.snapshot().shortId(),
                local(d.snapshot().instant()), String.join(",", d.reasons()));
          }
          if (pruned != null) {
            printPrune(out(), pruned);
          }
        }
        return 0;
      }
    }
  }

  static void printPrune(PrintWriter out, Prune.Result p) {
    out.printf("pruned: %d packs unused, %d repacked into %d, %d files removed, %s freed%n", p.packsUnused(),
        p.packsRepacked(), p.packsWritten(), p.packsRemoved(), size(p.bytesFreed()));
  }

  @Command(name = "prune", mixinStandardHelpOptions = true,
      description = "Free the data no snapshot needs (takes the repository for itself while it runs).")
  static final class PruneCommand extends Sub {
    @Override
    public Integer call() throws IOException {
      try (Repository r = repo.open(cl())) {
        Prune.Result p = Prune.run(r);
        if (repo.json) {
          json(p);
        } else {
          printPrune(out(), p);
        }
        return 0;
      }
    }
  }

  @Command(name = "unlock", mixinStandardHelpOptions = true,
      description = "Remove stale locks (left by a process that died, or not refreshed for 30 minutes).")
  static final class Unlock extends Sub {
    @Override
    public Integer call() throws IOException {
      try (Repository r = repo.open(cl())) {
        int n = Lock.removeStale(r);
        if (repo.json) {
          json(JSON.createObjectNode().put("removed", n));
        } else {
          out().println(n + " stale locks removed");
        }
        return 0;
      }
    }
  }

  @Command(name = "key", mixinStandardHelpOptions = true, description = "The repository's passwords: each has a key file.",
      subcommands = {Key.ListKeys.class, Key.Add.class, Key.Remove.class, Key.Passwd.class})
  static final class Key {
    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the keys.")
    static final class ListKeys extends Sub {
      @Override
      public Integer call() throws IOException {
        try (Repository r = repo.open(cl())) {
          List<Repository.KeyInfo> keys = r.keys();
          if (repo.json) {
            json(keys);
          } else {
            for (Repository.KeyInfo k : keys) {
              out().printf("%s %s  %s  %s@%s%n", k.current() ? "*" : " ", k.name().substring(0, 8), k.created(), k.user(),
                  k.host());
            }
          }
          return 0;
        }
      }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
        description = "Add a password (read from --new-password-file, or asked twice).")
    static final class Add extends Sub {
      @Option(names = "--new-password-file", paramLabel = "FILE") Path newPasswordFile;
      @Mixin KdfOptions kdf = new KdfOptions();

      @Override
      public Integer call() throws IOException {
        try (Repository r = repo.open(cl())) {
          String name = r.addKey(newPassword(cl(), newPasswordFile), kdf.kdf(cl()));
          out().println(repo.json ? JSON.createObjectNode().put("key", name).toString() : "added key " + name.substring(0, 8));
          return 0;
        }
      }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a key (not the one in use).")
    static final class Remove extends Sub {
      @Parameters(paramLabel = "KEY", description = "A key id or a unique prefix of it.") String key;

      @Override
      public Integer call() throws IOException {
        try (Repository r = repo.open(cl())) {
          String name = r.removeKey(key);
          out().println(repo.json ? JSON.createObjectNode().put("removed", name).toString() : "removed key " + name.substring(0, 8));
          return 0;
        }
      }
    }

    @Command(name = "passwd", mixinStandardHelpOptions = true, description = "Change the password in use.")
    static final class Passwd extends Sub {
      @Option(names = "--new-password-file", paramLabel = "FILE") Path newPasswordFile;
      @Mixin KdfOptions kdf = new KdfOptions();

      @Override
      public Integer call() throws IOException {
        try (Repository r = repo.open(cl())) {
          String name = r.changePassword(newPassword(cl(), newPasswordFile), kdf.kdf(cl()));
          out().println(repo.json ? JSON.createObjectNode().put("key", name).toString() : "password changed (key "
              + name.substring(0, 8) + ")");
          return 0;
        }
      }
    }

    static String newPassword(CommandLine cl, Path file) {
      RepoOptions o = new RepoOptions();
      o.passwordFile = file;
      if (file == null && System.console() == null) {
        throw new CommandLine.ParameterException(cl, "no terminal to ask for the new password: use --new-password-file");
      }
      return o.password(cl, true);
    }
  }

  /** A status line on the terminal while long work runs (nothing for scripts or --json). */
  static final class Status implements AutoCloseable {
    private final Thread thread;
    private final PrintWriter err;

    private Status(Thread thread, PrintWriter err) {
      this.thread = thread;
      this.err = err;
    }

    static Status start(CommandLine cl, boolean json, java.util.function.Supplier<String> line) {
      PrintWriter err = cl.getErr();
      if (json || System.console() == null) {
        return new Status(null, err);
      }
      AtomicLong ticks = new AtomicLong();
      Thread t = Thread.ofPlatform().daemon().start(() -> {
        while (!Thread.currentThread().isInterrupted()) {
          err.print("\r" + line.get() + " " + "|/-\\".charAt((int) (ticks.getAndIncrement() % 4)) + "  ");
          err.flush();
          try {
            Thread.sleep(200);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      return new Status(t, err);
    }

    @Override
    public void close() {
      if (thread != null) {
        thread.interrupt();
        try {
          thread.join(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        err.println();
        err.flush();
      }
    }
  }

  static String size(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB"};
    double v = bytes / 1024.0;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  static String local(Instant t) {
    return DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneId.systemDefault()).format(t);
  }

  static String modeString(Tree.Node n) {
    char kind = switch (n.type()) {
      case Tree.Node.DIR -> 'd';
      case Tree.Node.SYMLINK -> 'l';
      case Tree.Node.FILE -> '-';
      default -> '?';
    };
    StringBuilder s = new StringBuilder().append(kind);
    String rwx = "rwxrwxrwx";
    for (int i = 0; i < 9; i++) {
      s.append((n.mode() & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
    }
    return s.toString();
  }
}
