package org.intrustd.appliance.access;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.intrustd.appliance.testing.ManualClock;
import org.junit.jupiter.api.Test;

class LoginLimiterTest {
  private final ManualClock clock = new ManualClock();
  private final LoginLimiter limiter = new LoginLimiter(clock);

  @Test
  void aPeerGetsItsFreeAttemptsThenWaitsTwiceAsLongEachTime() {
    for (int i = 0; i < LoginLimiter.FREE_PER_PEER; i++) {
      assertThatCode(() -> limiter.check("alice", "link-1")).doesNotThrowAnyException();
      limiter.failed("alice", "link-1");
    }
    assertThatThrownBy(() -> limiter.check("alice", "link-1")).hasMessageContaining("try again in 1 s")
        .extracting(e -> ((AccessException) e).retryAfterSeconds()).isEqualTo(1L);
    clock.advance(Duration.ofMillis(1001));
    assertThatCode(() -> limiter.check("alice", "link-1")).doesNotThrowAnyException();
    limiter.failed("alice", "link-1");
    assertThatThrownBy(() -> limiter.check("alice", "link-1")).hasMessageContaining("try again in 2 s");
    // Another peer guessing another persona is not held up by this one.
    assertThatCode(() -> limiter.check("bob", "link-2")).doesNotThrowAnyException();
  }

  @Test
  void newLinksDoNotEscapeThePersonasCountAndTheWaitIsCapped() {
    for (int i = 0; i < 40; i++) {
      limiter.failed("alice", "link-" + i);
    }
    assertThatThrownBy(() -> limiter.check("alice", "fresh-link")).isInstanceOf(AccessException.class)
        .extracting(e -> ((AccessException) e).retryAfterSeconds()).isEqualTo(LoginLimiter.MAX_WAIT.toSeconds());
  }

  @Test
  void aSuccessClearsTheCount() {
    for (int i = 0; i < LoginLimiter.FREE_PER_PEER; i++) {
      limiter.failed("alice", "link-1");
    }
    limiter.succeeded("alice", "link-1");
    assertThatCode(() -> limiter.check("alice", "link-1")).doesNotThrowAnyException();
  }
}
