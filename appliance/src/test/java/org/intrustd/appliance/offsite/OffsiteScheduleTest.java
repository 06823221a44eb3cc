package org.intrustd.appliance.offsite;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** When off-site runs are due: a period apart, and sooner after failures, backing off to the period. */
class OffsiteScheduleTest {
    @TempDir
    Path state;

    private static final Instant T = Instant.parse("2026-12-01T10:00:00Z");
    private static final OffsiteBackups.Plan DAILY = new OffsiteBackups.Plan("peer", 24);

    private static Optional<OffsiteBackups.Outcome> outcome(boolean ok, int failedInARow) {
        return Optional.of(new OffsiteBackups.Outcome(T.toString(), T.plusSeconds(60).toString(), ok, ok ? null : "down", List.of(),
                0, List.of(), failedInARow));
    }

    @Test
    void aFailureIsTriedAgainSoonerAndLessOftenEachTime() {
        assertThat(OffsiteBackups.nextAt(DAILY, Optional.empty(), T)).as("never run: now").isEqualTo(T);
        assertThat(OffsiteBackups.nextAt(DAILY, outcome(true, 0), T)).isEqualTo(T.plus(Duration.ofHours(24)));
        assertThat(OffsiteBackups.nextAt(DAILY, outcome(false, 1), T)).isEqualTo(T.plus(Duration.ofMinutes(10)));
        assertThat(OffsiteBackups.nextAt(DAILY, outcome(false, 2), T)).isEqualTo(T.plus(Duration.ofMinutes(20)));
        assertThat(OffsiteBackups.nextAt(DAILY, outcome(false, 4), T)).isEqualTo(T.plus(Duration.ofMinutes(80)));
        assertThat(OffsiteBackups.nextAt(DAILY, outcome(false, 9), T)).as("never later than the period")
                .isEqualTo(T.plus(Duration.ofHours(24)));
        assertThat(OffsiteBackups.nextAt(DAILY, outcome(false, 500), T)).isEqualTo(T.plus(Duration.ofHours(24)));
        assertThat(OffsiteBackups.nextAt(DAILY, outcome(false, 0), T)).as("an outcome written before the count").isEqualTo(
                T.plus(Duration.ofMinutes(10)));
        assertThat(OffsiteBackups.nextAt(new OffsiteBackups.Plan("peer", 1), outcome(false, 3), T)).isEqualTo(
                T.plus(Duration.ofMinutes(40)));
    }

    @Test
    void failuresInARowAreCountedAndASuccessWouldReset() throws Exception {
        try (OffsiteBackups offsite = new OffsiteBackups(state, List::of, app -> state.resolve(app), app -> true, peer -> {
            throw new IllegalStateException("no link to " + peer);
        }, "self", Clock.systemUTC())) {
            offsite.set(DAILY);
            for (int i = 1; i <= 3; i++) {
                assertThat(offsite.runNow()).isTrue();
                while (offsite.status().running()) {
                    Thread.sleep(10);
                }
                OffsiteBackups.Status s = offsite.status();
                assertThat(s.last()).get().extracting(OffsiteBackups.Outcome::failedInARow).isEqualTo(i);
                assertThat(s.last().get().error()).contains("no link to peer");
                Instant started = Instant.parse(s.last().get().startedAt());
                assertThat(Instant.parse(s.nextAt().orElseThrow())).isEqualTo(started.plus(Duration.ofMinutes(10L << (i - 1))));
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
