package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class FlockTest {
  @Test
  void anEphemeralPortIsReportedInTheUri() {
    try (Flock flock = Flock.start(FlockConfig.defaults())) {
      assertThat(flock.port()).isPositive();
      assertThat(flock.uri()).hasToString("ws://127.0.0.1:" + flock.port() + "/");
    }
  }

  @Test
  void aTakenPortFailsToStartAndClosingTwiceIsHarmless() {
    Flock first = Flock.start(FlockConfig.defaults());
    try {
      assertThatThrownBy(() -> Flock.start(FlockConfig.defaults().withPort(first.port())))
          .isInstanceOf(FlockException.class)
          .hasMessageContaining(String.valueOf(first.port()));
    } finally {
      first.close();
      first.close();
    }
  }
}
