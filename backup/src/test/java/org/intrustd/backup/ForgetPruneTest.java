package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ForgetPruneTest extends BackupFixture {
    static Snapshot at(String time, String host) {
        return new Snapshot(1, time, host, "u", List.of("/p"), List.of(), "t", null, null, time + host);
    }

    @Test
    void aPolicyKeepsTheNewestOfEachBucket() {
        List<Snapshot> all = new ArrayList<>();
        // One a day at 10:00 and 22:00 through 2026 (730), on one host.
        Instant t = Instant.parse("2026-01-01T10:00:00Z");
        for (int i = 0; i < 730; i++) {
            all.add(at(t.plus(Duration.ofHours(12L * i)).toString(), "a"));
        }
        all.add(at("2026-06-01T00:00:00Z", "b"));
        List<Forget.Decision> plan = Forget.plan(all, new Forget.Policy(3, 0, 7, 4, 12, 5, Set.of()), ZoneOffset.UTC);
        List<String> kept = plan.stream().filter(Forget.Decision::keep).map(d -> d.snapshot().time()).toList();
        // Host b is its own group: kept. On host a: last 3; 7 days; 4 weeks; 12 months; the year 2026.
        assertThat(kept).contains("2026-06-01T00:00:00Z", "2026-12-31T22:00:00Z", "2026-12-31T10:00:00Z", "2026-12-30T22:00:00Z",
                "2026-12-25T22:00:00Z", "2026-01-31T22:00:00Z", "2026-11-30T22:00:00Z");
        assertThat(kept).doesNotContain("2026-12-24T10:00:00Z", "2026-01-30T22:00:00Z");
        long keptOnA = plan.stream().filter(d -> d.keep() && d.snapshot().host().equals("a")).count();
        // 3 last + 6 more days + 3 more weeks (the 4th is this week) + 11 more months (this one is kept) + 0 years.
        assertThat(keptOnA).isBetween(20L, 24L);
        assertThat(Forget.plan(all, new Forget.Policy(0, 0, 0, 0, 0, 0, Set.of()), ZoneOffset.UTC)).allMatch(Forget.Decision::keep);
    }

    @Test
    void pruneFreesWhatOnlyForgottenSnapshotsUsedAndTheRestStillRestores() throws Exception {
        fill();
        Files.write(source.resolve("gone.bin"), random(5, 3 << 20));
        try (Repository repo = init()) {
            Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress());
            Files.write(source.resolve("second.bin"), random(9, 2 << 20));
            Files.delete(source.resolve("gone.bin"));
            Snapshot second = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            long before = size(repoDir.resolve("data"));
            List<Forget.Decision> plan = Forget.run(repo, new Forget.Policy(1, 0, 0, 0, 0, 0, Set.of()), ZoneOffset.UTC);
            assertThat(plan.stream().filter(d -> !d.keep()).count()).isEqualTo(1);
            Prune.Result r = Prune.run(repo);
            assertThat(r.packsUnused() + r.packsRepacked()).isPositive();
            long after = size(repoDir.resolve("data"));
            // gone.bin (3 MiB of random bytes) is gone, but for packs it shared with chunks still used.
            assertThat(before - after).isGreaterThan(2 << 20);
            assertThat(repoDir.resolve("index")).isDirectoryContaining(p -> true);
            try (var idx = Files.list(repoDir.resolve("index"))) {
                assertThat(idx.count()).isEqualTo(1);
            }
            assertThat(Check.run(repo, true).errors()).isEmpty();
            Path out = dir.resolve("out");
            assertThat(Restore.run(repo, second, Optional.empty(), out, 2, new Restore.Progress()).errors()).isEmpty();
            assertThat(describe(out.resolve("home"))).isEqualTo(describe(source));
            // A second prune has nothing to do.
            Prune.Result again = Prune.run(repo);
            assertThat(again.packsUnused() + again.packsRepacked() + again.packsRemoved()).isZero();
        }
    }

    @Test
    void pruneWaitsForNoBackupAndABackupForNoPrune() throws Exception {
        try (Repository repo = init(); Lock backup = Lock.take(repo, false, "backup", Duration.ZERO)) {
            assertThatThrownBy(() -> Prune.run(repo)).hasMessageContaining("locked by backup");
            // Shared locks share.
            Lock.take(repo, false, "backup", Duration.ZERO).close();
        }
        try (Repository repo = Repository.open(new LocalBackend(repoDir), "secret", Clock.systemUTC());
                Lock prune = Lock.take(repo, true, "prune", Duration.ZERO)) {
            assertThatThrownBy(() -> Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()))
                    .hasMessageContaining("locked exclusively by prune");
        }
    }

    @Test
    void twoBackupsAndAPruneAtOnceAllFinishAndTheRepositoryChecks() throws Exception {
        fill();
        Path other = Files.createDirectories(dir.resolve("src/other"));
        for (int i = 0; i < 6; i++) {
            Files.write(other.resolve("f" + i), random(100 + i, 1 << 20));
        }
        try (Repository repo = init()) {
            Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress());
            Forget.run(repo, new Forget.Policy(0, 0, 0, 0, 0, 0, Set.of("none")), ZoneOffset.UTC); // forgets it: prune has work
        }
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<Object>> runs = new ArrayList<>();
            for (Path p : List.of(source, other)) {
                runs.add(pool.submit(() -> {
                    try (Repository r = Repository.open(new LocalBackend(repoDir), "secret", Clock.systemUTC()).lockWait(Duration.ofMinutes(2))) {
                        return Backup.run(r, Backup.Options.of(List.of(p)).withThreads(1), new Backup.Progress()).snapshot();
                    }
                }));
            }
            runs.add(pool.submit(() -> {
                try (Repository r = Repository.open(new LocalBackend(repoDir), "secret", Clock.systemUTC()).lockWait(Duration.ofMinutes(2))) {
                    return Prune.run(r);
                }
            }));
            for (var f : runs) {
                assertThat(f.get(3, java.util.concurrent.TimeUnit.MINUTES)).isNotNull();
            }
        } finally {
            pool.shutdownNow();
        }
        try (Repository repo = Repository.open(new LocalBackend(repoDir), "secret", Clock.systemUTC())) {
            assertThat(Check.run(repo, true).errors()).isEmpty();
            List<Snapshot> left = repo.snapshots();
            assertThat(left).hasSize(2);
            for (Snapshot s : left) {
                Path out = dir.resolve("out-" + s.shortId());
                assertThat(Restore.run(repo, s, Optional.empty(), out, 2, new Restore.Progress()).errors()).isEmpty();
                String root = Path.of(s.paths().getFirst()).getFileName().toString();
                assertThat(describe(out.resolve(root))).isEqualTo(describe(root.equals("home") ? source : other));
            }
        }
    }

    static long size(Path p) throws Exception {
        try (var all = Files.walk(p)) {
            return all.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }
}
