package org.intrustd.appliance.offsite;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.intrustd.appliance.install.Installer;
import org.intrustd.backup.Backup;
import org.intrustd.backup.BackupException;
import org.intrustd.backup.Forget;
import org.intrustd.backup.HttpBackend;
import org.intrustd.backup.KeyFile;
import org.intrustd.backup.Prune;
import org.intrustd.backup.Repository;
import org.intrustd.backup.Restore;
import org.intrustd.backup.Snapshot;

/**
 * Off-site backups of this appliance's apps' data to a paired appliance's backups app
 * (docs/backups.md, "Off-site"). On a schedule, each app in turn is stopped (it starts again on
 * its next request), so its files are backed up at rest, into a snapshot of its own; then old
 * snapshots are forgotten (last 3, 7 daily, 4 weekly, 12 monthly, 3 yearly) and their data
 * pruned. Everything is sealed here with a random repository password kept in the state
 * directory (0600): the friend stores what it cannot read. The owner should keep a copy of
 * that password ({@code intrustd backup offsite key}) — without it, the backups are lost
 * with this appliance.
 * <p>
 * The plan and the last outcome are files in the state directory, so a restart keeps both; a
 * failure is kept with its reason, and a plan whose last success is older than two periods is
 * overdue (the admin app and {@code intrustd backup offsite} show both). Thread-safe.
 */
public final class OffsiteBackups implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("intrustd.offsite");
    private static final ObjectMapper JSON = new ObjectMapper().setSerializationInclusion(JsonInclude.Include.NON_NULL);
    /** The repository's name in this appliance's space on the friend's backups app. */
    static final String REPO = "apps";
    static final Forget.Policy KEEP = new Forget.Policy(3, 0, 7, 4, 12, 3, Set.of());

    /** What to back up where, and how often. */
    public record Plan(String peer, int everyHours) {
        public Plan {
            if (everyHours < 1 || everyHours > 24 * 31) {
                throw new IllegalArgumentException("every is 1 hour to 31 days, not " + everyHours + " hours");
            }
        }
    }

    /** The last run's outcome. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    /** How a run ended; {@code failedInARow}: this and the failures just before it (0 when it succeeded). */
    public record Outcome(String startedAt, String endedAt, boolean ok, String error, List<String> snapshots, long bytesAdded,
            List<String> warnings, int failedInARow) {
    }

    /** After a failure the next try comes sooner than the period: 10 minutes, doubling, at most one period. */
    static final Duration FIRST_RETRY = Duration.ofMinutes(10);

    /** What the admin app shows. */
    public record Status(Optional<Plan> plan, boolean running, Optional<Outcome> last, Optional<String> lastSuccessAt,
            boolean overdue, Optional<String> nextAt) {
    }

    /** Opens the exchange transport to app {@code backups} of a peer (the daemon's peer links). */
    public interface Peers {
        HttpBackend.Transport transport(String peer);
    }

    private final Path stateDir;
    private final Supplier<List<String>> apps;
    private final Function<String, Path> dataDir;
    private final Function<String, Boolean> stopApp;
    private final Peers peers;
    private final String self;
    private final Clock clock;
    private final ExecutorService runner = Executors.newSingleThreadExecutor(
            Thread.ofPlatform().name("offsite-backup").daemon().factory());
    private final AtomicBoolean running = new AtomicBoolean();

    public OffsiteBackups(Path stateDir, Supplier<List<String>> apps, Function<String, Path> dataDir,
            Function<String, Boolean> stopApp, Peers peers, String self, Clock clock) {
        this.stateDir = stateDir;
        this.apps = apps;
        this.dataDir = dataDir;
        this.stopApp = stopApp;
        this.peers = peers;
        this.self = self;
        this.clock = clock;
    }

    private Path planFile() {
        return stateDir.resolve("offsite.json");
    }

    private Path outcomeFile() {
        return stateDir.resolve("offsite-last.json");
    }

    private Path successFile() {
        return stateDir.resolve("offsite-success.json");
    }

    private Path keyFile() {
        return stateDir.resolve("offsite.key");
    }

    public synchronized Optional<Plan> plan() throws IOException {
        return Files.exists(planFile()) ? Optional.of(JSON.readValue(planFile().toFile(), Plan.class)) : Optional.empty();
    }

    /** Sets the plan (making the repository password the first time); the first run starts at once. */
    public synchronized void set(Plan plan) throws IOException {
        key();
        write(planFile(), plan);
    }

    /** Stops backing up (what the friend keeps stays there). */
    public synchronized void off() throws IOException {
        Files.deleteIfExists(planFile());
    }

    /** The repository password, made (random, 256 bits) and kept in the state directory at first use. */
    public synchronized String key() throws IOException {
        if (!Files.exists(keyFile())) {
            useKey(newKey());
        }
        return Files.readString(keyFile()).strip();
    }

    /** The recovery kit to keep away from this appliance: its ID, the friend's (once set) and the repository password. */
    public RecoveryKit kit() throws IOException {
        return new RecoveryKit(self, plan().map(Plan::peer), key());
    }

    public Status status() throws IOException {
        Optional<Plan> plan = plan();
        Optional<Outcome> last = read(outcomeFile(), Outcome.class);
        Optional<String> success = read(successFile(), Outcome.class).map(Outcome::endedAt);
        Instant now = clock.instant();
        boolean overdue = plan.isPresent() && success.map(t -> Instant.parse(t).plus(Duration.ofHours(2L * plan.get().everyHours()))
                .isBefore(now)).orElse(last.isPresent());
        Optional<String> next = plan.map(p -> nextAt(p, last, now).toString());
        return new Status(plan, running.get(), last, success, overdue, next);
    }

    /** Called every minute: starts a run when one is due. */
    public void tick() {
        try {
            Optional<Plan> plan = plan();
            if (plan.isEmpty() || running.get()) {
                return;
            }
            Instant now = clock.instant();
            if (!nextAt(plan.get(), read(outcomeFile(), Outcome.class), now).isAfter(now)) {
                runNow();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "off-site backup schedule: " + e.getMessage());
        }
    }

    /** When the next run is due: a period after the last start, or sooner after a failure (a link down for a while, say). */
    static Instant nextAt(Plan plan, Optional<Outcome> last, Instant now) {
        if (last.isEmpty()) {
            return now;
        }
        Duration period = Duration.ofHours(plan.everyHours());
        Duration wait = period;
        if (!last.get().ok()) {
            int doublings = Math.min(20, Math.max(1, last.get().failedInARow()) - 1);
            Duration retry = FIRST_RETRY.multipliedBy(1L << doublings);
            wait = retry.compareTo(period) < 0 ? retry : period;
        }
        return Instant.parse(last.get().startedAt()).plus(wait);
    }

    /** Starts a run now (unless one is running); false when there is no plan or one runs already. */
    public boolean runNow() throws IOException {
        Optional<Plan> plan = plan();
        if (plan.isEmpty() || !running.compareAndSet(false, true)) {
            return false;
        }
        runner.execute(() -> {
            try {
                run(plan.get());
            } finally {
                running.set(false);
            }
        });
        return true;
    }

    private void run(Plan plan) {
        String started = clock.instant().toString();
        Optional<Outcome> previous = readQuietly(outcomeFile());
        List<String> snapshots = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        long added = 0;
        Outcome outcome;
        try (HttpBackend backend = new HttpBackend(peers.transport(plan.peer()), "/api/repos/" + REPO,
                "repository " + REPO + " on appliance " + plan.peer());
                Repository repo = openOrInit(backend)) {
            leaveVerifier(plan.peer()).ifPresent(warnings::add);
            for (String app : apps.get()) {
                Path data = dataDir.apply(app);
                if (!Files.isDirectory(data)) {
                    continue;
                }
                // At rest while it is read: the app starts again on its next request.
                stopApp.apply(app);
                Backup.Result r = Backup.run(repo, Backup.Options.of(List.of(data)).withHost(self).withTags(List.of("app:" + app)),
                        new Backup.Progress());
                snapshots.add(r.snapshot().id());
                added += r.snapshot().summary().storedAdded();
                r.warnings().forEach(w -> warnings.add(app + ": " + w));
            }
            List<Forget.Decision> kept = Forget.run(repo, KEEP, ZoneId.systemDefault());
            if (kept.stream().anyMatch(d -> !d.keep())) {
                Prune.run(repo);
            }
            outcome = new Outcome(started, clock.instant().toString(), true, null, snapshots, added, warnings, 0);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "off-site backup to " + plan.peer() + " failed", e);
            String why = e.getMessage() == null ? e.toString() : e.getMessage();
            int before = previous.filter(o -> !o.ok()).map(o -> Math.max(1, o.failedInARow())).orElse(0);
            outcome = new Outcome(started, clock.instant().toString(), false, why, snapshots, added, warnings, before + 1);
        }
        try {
            write(outcomeFile(), outcome);
            if (outcome.ok()) {
                write(successFile(), outcome);
            }
        } catch (IOException e) {
            LOG.log(Level.WARNING, "cannot record the off-site backup's outcome", e);
        }
    }

    /**
     * Leaves the friend the SHA-256 of this repository's recovery claim, so a new box with the
     * kit can take these backups over if this one is lost; a warning when the friend's app
     * cannot keep it (an older version).
     */
    private Optional<String> leaveVerifier(String peer) throws IOException {
        byte[] body = JSON.createObjectNode().put("verifier", RecoveryKit.hex(RecoveryKit.verifier(RecoveryKit.claim(key()))))
                .toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        HttpBackend.Response r = peers.transport(peer).exchange("PUT", "/api/recovery", JSON_TYPE, body);
        return r.status() == 204 ? Optional.empty() : Optional.of("the friend's backups app keeps no recovery check (HTTP " + r.status()
                + "): a new appliance could not take these backups over if this one were lost");
    }

    private static final java.util.Map<String, String> JSON_TYPE = java.util.Map.of("Content-Type", "application/json");

    private Repository openOrInit(HttpBackend backend) throws IOException {
        String password = key();
        if (backend.exists(org.intrustd.backup.Backend.Kind.CONFIG, "config")) {
            return Repository.open(backend, password, clock);
        }
        try {
            return Repository.init(backend, password, KeyFile.Kdf.DEFAULT,
                    Repository.Config.defaults(java.util.UUID.randomUUID().toString()), clock);
        } catch (BackupException e) {
            throw new BackupException("cannot make the repository on " + backend.location() + ": " + e.getMessage(), e);
        }
    }

    /** What {@link #restore} did: the snapshot put back, and where the data it replaced is kept (if there was any). */
    public record Restored(String app, String snapshot, String time, long files, long bytes, Optional<Path> previous) {
    }

    /**
     * Puts an app's data back as the friend keeps it: the latest snapshot of the app, or the one
     * named (a unique prefix of its id). It is restored beside the data first, every chunk
     * checked; only when all of it is there is the app stopped and the folders swapped, so a
     * failure leaves the data as it was. The data replaced is kept as
     * {@code <data>.before-restore-<time>} for the owner to compare or delete. Not while a
     * backup runs.
     */
    public Restored restore(String app, Optional<String> snapshotRef) throws IOException {
        Plan plan = plan().orElseThrow(() -> new BackupException("no off-site backups are set up"));
        if (!apps.get().contains(app)) {
            throw new BackupException("no app " + app + " is installed here");
        }
        if (!running.compareAndSet(false, true)) {
            throw new BackupException("an off-site backup is running: restore when it ends");
        }
        try (HttpBackend backend = new HttpBackend(peers.transport(plan.peer()), "/api/repos/" + REPO, "off-site repository");
                Repository repo = Repository.open(backend, key(), clock)) {
            String tag = "app:" + app;
            Snapshot snapshot;
            if (snapshotRef.isPresent()) {
                snapshot = repo.findSnapshot(snapshotRef.get());
                if (!snapshot.tags().contains(tag)) {
                    throw new BackupException("snapshot " + snapshot.shortId() + " is not one of app " + app);
                }
            } else {
                snapshot = repo.snapshots().stream().filter(x -> x.tags().contains(tag)).reduce((a, b) -> b)
                        .orElseThrow(() -> new BackupException("the friend keeps no snapshot of app " + app));
            }
            return restoreInto(repo, app, snapshot);
        } finally {
            running.set(false);
        }
    }

    /** Restores {@code snapshot} beside app {@code app}'s data, then swaps the two (see {@link #restore}). */
    private Restored restoreInto(Repository repo, String app, Snapshot snapshot) throws IOException {
        if (snapshot.paths().size() != 1) {
            throw new BackupException("snapshot " + snapshot.shortId() + " holds " + snapshot.paths().size() + " paths, not an app's data");
        }
        Path data = dataDir.apply(app);
        String stamp = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(java.time.ZoneOffset.UTC)
                .format(clock.instant());
        Path staging = data.resolveSibling("." + data.getFileName() + ".restoring-" + stamp);
        Files.createDirectories(data.getParent());
        try {
            String top = Path.of(snapshot.paths().getFirst()).getFileName().toString();
            Restore.Result r = Restore.run(repo, snapshot, Optional.of(top), staging, Runtime.getRuntime().availableProcessors(),
                    new Restore.Progress());
            if (!r.errors().isEmpty()) {
                throw new BackupException("the snapshot could not be restored whole (the data is left as it was): "
                        + String.join("; ", r.errors().subList(0, Math.min(3, r.errors().size()))));
            }
            // At rest while it is swapped: the app starts again, on the data put back, at its next request.
            stopApp.apply(app);
            Optional<Path> previous = Optional.empty();
            if (Files.exists(data, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                previous = Optional.of(data.resolveSibling(data.getFileName() + ".before-restore-" + stamp));
                Files.move(data, previous.get(), StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(staging.resolve(top), data, StandardCopyOption.ATOMIC_MOVE);
            LOG.log(Level.INFO, "app {0}''s data restored from off-site snapshot {1}", app, snapshot.shortId());
            return new Restored(app, snapshot.id(), snapshot.time(), r.files(), r.bytes(), previous);
        } finally {
            Installer.deleteTree(staging);
        }
    }

    /**
     * What {@link #recover} did: the repositories the friend moved over (none when it had been
     * done before), each app put back, the apps with backups that are not installed here, and
     * the apps that could not be put back (with why).
     */
    public record Recovered(String from, String peer, List<String> moved, List<Restored> restored, List<String> notInstalled,
            List<String> failed, List<String> warnings) {
    }

    /**
     * Rebuilds a lost appliance's apps here from what it left with a friend (docs/backups.md,
     * "A lost appliance"): the friend's backups app moves the lost appliance's space over to this
     * one on the kit's claim; the repository, opened with the kit's password, gets a new password
     * of this appliance's own, its off-site key from now on (the kit's has served its claim); and
     * each installed app's latest snapshot is put back as {@link #restore} does. The plan,
     * backing up to {@code peer}, is set only once every installed app is back, so a backup of
     * data not yet restored never becomes the latest snapshot. Every step can be run again, so
     * a recovery cut off or failed part way is finished by running it again.
     */
    public Recovered recover(RecoveryKit kit, String peer) throws IOException {
        if (kit.appliance().equals(self)) {
            throw new BackupException("this kit is this appliance's own: put an app's data back with offsite restore APP");
        }
        if (!running.compareAndSet(false, true)) {
            throw new BackupException("an off-site backup is running: recover when it ends");
        }
        try {
            byte[] body = JSON.createObjectNode().put("from", kit.appliance()).put("claim", RecoveryKit.hex(kit.claim())).toString()
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            HttpBackend.Response claimed = peers.transport(peer).exchange("POST", "/api/recovery/claim", JSON_TYPE, body);
            if (claimed.status() != 200) {
                throw new BackupException("appliance " + peer + " did not hand over the backups: " + claimed.detail());
            }
            List<String> moved = new ArrayList<>();
            JSON.readTree(claimed.body()).path("moved").forEach(n -> moved.add(n.asText()));
            List<Restored> restored = new ArrayList<>();
            List<String> notInstalled = new ArrayList<>();
            List<String> failed = new ArrayList<>();
            List<String> warnings = new ArrayList<>();
            try (HttpBackend backend = new HttpBackend(peers.transport(peer), "/api/repos/" + REPO, "off-site repository");
                    Repository repo = openRecovered(backend, kit.key())) {
                leaveVerifier(peer).ifPresent(warnings::add);
                java.util.Map<String, Snapshot> latest = new java.util.TreeMap<>();
                for (Snapshot s : repo.snapshots()) {
                    s.tags().stream().filter(t -> t.startsWith("app:")).forEach(t -> latest.put(t.substring(4), s));
                }
                List<String> installed = apps.get();
                for (var e : latest.entrySet()) {
                    if (!installed.contains(e.getKey())) {
                        notInstalled.add(e.getKey());
                        continue;
                    }
                    try {
                        restored.add(restoreInto(repo, e.getKey(), e.getValue()));
                    } catch (IOException | RuntimeException x) {
                        LOG.log(Level.WARNING, "cannot put app " + e.getKey() + "'s data back", x);
                        failed.add(e.getKey() + ": " + (x.getMessage() == null ? x.toString() : x.getMessage()));
                    }
                }
            }
            if (failed.isEmpty()) {
                set(new Plan(peer, plan().map(Plan::everyHours).orElse(24)));
            }
            LOG.log(Level.INFO, "recovered appliance {0}''s apps from {1}: {2} put back, not installed {3}, failed {4}",
                    kit.appliance(), peer, restored.size(), notInstalled, failed);
            return new Recovered(kit.appliance(), peer, moved, restored, notInstalled, failed, warnings);
        } finally {
            running.set(false);
        }
    }

    /** Makes {@code key} the off-site key, keeping a different one made here before as {@code offsite.key.replaced-<time>}. */
    private synchronized void useKey(String key) throws IOException {
        if (Files.exists(keyFile())) {
            if (Files.readString(keyFile()).strip().equals(key)) {
                return;
            }
            Files.move(keyFile(), keyFile().resolveSibling("offsite.key.replaced-" + clock.millis()), StandardCopyOption.ATOMIC_MOVE);
        }
        writeSecret(keyFile(), key);
    }

    private Path nextKeyFile() {
        return stateDir.resolve("offsite.key.next");
    }

    /**
     * Opens the recovered repository. With the kit's key, that key is then replaced by a new
     * random one of this appliance's own (the kit's has served its claim, and a stolen box
     * knows it too), written down in {@code offsite.key.next} before the repository's key file
     * changes. A recovery run again after that opens with the new key, finishing the change if
     * it was cut off.
     */
    private synchronized Repository openRecovered(HttpBackend backend, String kitKey) throws IOException {
        Repository repo;
        try {
            repo = Repository.open(backend, kitKey, clock);
        } catch (BackupException wrongKit) {
            for (Path f : List.of(nextKeyFile(), keyFile())) {
                if (Files.exists(f)) {
                    String key = Files.readString(f).strip();
                    try {
                        repo = Repository.open(backend, key, clock);
                    } catch (BackupException e) {
                        continue;
                    }
                    writeSecret(keyFile(), key);
                    Files.deleteIfExists(nextKeyFile());
                    return repo;
                }
            }
            throw wrongKit;
        }
        try {
            String next = newKey();
            writeSecret(nextKeyFile(), next);
            repo.changePassword(next, KeyFile.Kdf.DEFAULT);
            useKey(next);
            Files.deleteIfExists(nextKeyFile());
            return repo;
        } catch (IOException | RuntimeException e) {
            repo.close();
            throw e;
        }
    }

    private static String newKey() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(k);
    }

    /** Writes a secret readable by the daemon only, whole or not at all. */
    private static void writeSecret(Path file, String secret) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(temp);
        Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(temp, secret);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The snapshots kept off site (opened with the repository password), newest last. */
    public List<Snapshot> snapshots() throws IOException {
        Plan plan = plan().orElseThrow(() -> new BackupException("no off-site backups are set up"));
        try (HttpBackend backend = new HttpBackend(peers.transport(plan.peer()), "/api/repos/" + REPO, "off-site repository");
                Repository repo = Repository.open(backend, key(), clock)) {
            return repo.snapshots();
        }
    }

    private static <T> Optional<T> read(Path file, Class<T> type) throws IOException {
        return Files.exists(file) ? Optional.of(JSON.readValue(file.toFile(), type)) : Optional.empty();
    }

    /** The last outcome, or empty when there is none or it cannot be read (the run goes on regardless). */
    private static Optional<Outcome> readQuietly(Path file) {
        try {
            return read(file, Outcome.class);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static void write(Path file, Object value) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        JSON.writeValue(temp.toFile(), value);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void close() {
        runner.shutdownNow();
    }
}
