package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Crash consistency: a backup, a forget and a prune run one after another against a
 * repository whose store "dies" at its N-th write or delete, for every N (and again, with
 * other data, until there are at least {@code backup.crash.points} kill points: 200 by
 * default, more in bench mode). The repository's files only change through the store, and
 * each write is atomic, so dying before the N-th is every state a kill -9 can leave. After
 * each: check --read-data finds no error, every snapshot left restores exactly, and the next
 * backup and prune complete. (A real kill -9 of a running backup is in BackupCliTest.)
 */
class CrashTest extends BackupFixture {
    /** Thrown by the store at the kill point: an Error, so no catch in the engine mistakes it for a bad file. */
    static final class Killed extends Error {
        Killed() {
            super("killed", null, false, false);
        }
    }

    /** A store that dies at its {@code killAt}-th change; dead, it refuses everything. */
    static final class DyingBackend implements Backend {
        final Backend inner;
        final int killAt;
        final AtomicInteger changes = new AtomicInteger();
        volatile boolean dead;

        DyingBackend(Backend inner, int killAt) {
            this.inner = inner;
            this.killAt = killAt;
        }

        private void change() {
            alive();
            if (changes.incrementAndGet() >= killAt) {
                dead = true;
                throw new Killed();
            }
        }

        private void alive() {
            if (dead) {
                throw new Killed();
            }
        }

        @Override
        public void create() throws IOException {
            change();
            inner.create();
        }

        @Override
        public void put(Kind kind, String name, byte[] data) throws IOException {
            change();
            inner.put(kind, name, data);
        }

        @Override
        public void delete(Kind kind, String name) throws IOException {
            change();
            inner.delete(kind, name);
        }

        @Override
        public byte[] get(Kind kind, String name) throws IOException {
            alive();
            return inner.get(kind, name);
        }

        @Override
        public byte[] read(Kind kind, String name, long offset, int length) throws IOException {
            alive();
            return inner.read(kind, name, offset, length);
        }

        @Override
        public long size(Kind kind, String name) throws IOException {
            alive();
            return inner.size(kind, name);
        }

        @Override
        public boolean exists(Kind kind, String name) throws IOException {
            alive();
            return inner.exists(kind, name);
        }

        @Override
        public List<String> list(Kind kind) throws IOException {
            alive();
            return inner.list(kind);
        }

        @Override
        public String location() {
            return inner.location();
        }
    }

    /** Backup, change files, backup, forget the first, prune: what a scheduled backup does. Returns the changes made. */
    int scenario(Backend store) throws IOException {
        try (Repository repo = Repository.open(store, "secret", Clock.systemUTC())) {
            Backup.run(repo, Backup.Options.of(List.of(source)).withThreads(2), new Backup.Progress());
            Forget.run(repo, new Forget.Policy(1, 0, 0, 0, 0, 0, Set.of()), ZoneOffset.UTC);
            Prune.run(repo);
        }
        return store instanceof DyingBackend d ? d.changes.get() : 0;
    }

    @Test
    void aKillAtAnyWriteLeavesARepositoryThatChecksRestoresAndGoesOn() throws Exception {
        int wanted = Integer.getInteger("backup.crash.points", 200);
        int points = 0;
        for (int round = 0; points < wanted; round++) {
            // A first snapshot, then changes for the run that dies.
            Files.write(source.resolve("a.bin"), random(round, 3 << 20));
            Files.writeString(source.resolve("text.txt"), ("round " + round + "\n").repeat(50_000));
            Files.write(source.resolve("gone.bin"), random(1000 + round, 2 << 20));
            Map<String, String> then = describe(source);
            Path template = dir.resolve("template" + round);
            repoDir = template;
            try (Repository repo = init()) {
                Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress());
            }
            Files.delete(source.resolve("gone.bin"));
            Files.write(source.resolve("b.bin"), random(2000 + round, 2 << 20));
            byte[] a = Files.readAllBytes(source.resolve("a.bin"));
            a[a.length / 3] ^= 1;
            Files.write(source.resolve("a.bin"), a);
            Map<String, String> now = describe(source);
            // How many changes the whole scenario makes, on a copy.
            int total = scenario(new DyingBackend(new LocalBackend(copy(template, dir.resolve("count"))), Integer.MAX_VALUE));
            assertThat(total).isGreaterThan(10);
            for (int killAt = 1; killAt <= total + 1 && points < wanted; killAt++, points++) {
                Path r = copy(template, dir.resolve("k"));
                DyingBackend dying = new DyingBackend(new LocalBackend(r), killAt);
                try {
                    scenario(dying);
                } catch (Killed | java.util.concurrent.CompletionException e) {
                    // died
                } catch (BackupException | IOException e) {
                    if (!dying.dead) {
                        throw e;
                    }
                }
                afterCrash(r, then, now, "round " + round + ", killed at change " + killAt + " of " + total);
                delete(r);
            }
            delete(template);
        }
        assertThat(points).isGreaterThanOrEqualTo(wanted);
    }

    void afterCrash(Path r, Map<String, String> then, Map<String, String> now, String where) throws IOException {
        // The dead process's locks: stale once it is gone (Lock tells by its pid; this process lives on).
        try (Stream<Path> locks = Files.list(r.resolve("locks"))) {
            for (Path l : locks.toList()) {
                Files.delete(l);
            }
        }
        try (Repository repo = Repository.open(new LocalBackend(r), "secret", Clock.systemUTC())) {
            Check.Result c = Check.run(repo, true);
            assertThat(c.errors()).as(where).isEmpty();
            List<Snapshot> left = repo.snapshots();
            assertThat(left).as(where).isNotEmpty();
            // Each snapshot left (the first, the second or both) restores whole: the first has no parent.
            for (Snapshot s : left) {
                Path out = dir.resolve("out");
                Restore.Result res = Restore.run(repo, s, Optional.empty(), out, 2, new Restore.Progress());
                assertThat(res.errors()).as(where).isEmpty();
                assertThat(describe(out.resolve("home"))).as(where).isEqualTo(s.parent() == null ? then : now);
                delete(out);
            }
            // And it goes on.
            Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress());
            Prune.run(repo);
            assertThat(Check.run(repo, false).errors()).as(where + ", then backup and prune").isEmpty();
        }
    }

    static Path copy(Path from, Path to) throws IOException {
        delete(to);
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
        return to;
    }

    static void delete(Path p) throws IOException {
        if (Files.exists(p)) {
            try (Stream<Path> all = Files.walk(p)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }
}
