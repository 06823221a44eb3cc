package org.intrustd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** A connection through a flock node that dies is tried again while the appliance moves to another node, as the shim does. */
class FailoverTest {
  /** Each attempt takes the next outcome: a flock error code, or "ok"; each pause moves a fake clock on. */
  private static String run(List<String> outcomes, Duration attemptTakes) {
    Deque<String> left = new ArrayDeque<>(outcomes);
    AtomicLong now = new AtomicLong();
    return ApplianceClient.throughNodeLoss(() -> {
      now.addAndGet(attemptTakes.toNanos());
      String next = left.removeFirst();
      if (next.equals("ok")) {
        return "linked after " + (outcomes.size() - left.size()) + " attempts";
      }
      throw next.equals("unreachable") ? new ClientException("cannot reach the flock") : new ClientException(next, next);
    }, now::get, pause -> now.addAndGet(pause.toNanos()));
  }

  @Test
  void afterANodeLossItIntroducesAgainUntilTheApplianceIsBack() {
    assertThat(run(List.of("node-lost", "appliance-offline", "appliance-offline", "ok"), Duration.ofMillis(100)))
        .isEqualTo("linked after 4 attempts");
    assertThat(run(List.of("node-lost", "node-lost", "ok"), Duration.ofMillis(100))).isEqualTo("linked after 3 attempts");
  }

  @Test
  void otherwiseTheFirstFailureIsTheAnswer() {
    // Offline with no node lost: the appliance is simply not there.
    assertThatThrownBy(() -> run(List.of("appliance-offline", "ok"), Duration.ZERO)).isInstanceOf(ClientException.class)
        .extracting(e -> ((ClientException) e).flockCode().orElseThrow()).isEqualTo("appliance-offline");
    // Any other refusal, or no flock at all, even while moving.
    assertThatThrownBy(() -> run(List.of("node-lost", "invalid-appliance-id", "ok"), Duration.ZERO))
        .hasMessage("invalid-appliance-id");
    assertThatThrownBy(() -> run(List.of("node-lost", "unreachable", "ok"), Duration.ZERO))
        .hasMessage("cannot reach the flock");
  }

  @Test
  void itGivesUpTenSecondsAfterTheNodeLoss() {
    // Each attempt takes 3 s: node-lost at 3 s, then offline at 6.25, 9.5, 12.75 (9.75 s after: one more) and 16 s.
    List<String> outcomes = List.of("node-lost", "appliance-offline", "appliance-offline", "appliance-offline",
        "appliance-offline", "ok");
    assertThatThrownBy(() -> run(outcomes, Duration.ofSeconds(3))).hasMessage("appliance-offline");
    assertThat(run(outcomes, Duration.ofSeconds(2))).isEqualTo("linked after 6 attempts"); // the last offline 9 s after
    assertThat(ApplianceClient.FAILOVER).isEqualTo(Duration.ofSeconds(10));
  }
}
