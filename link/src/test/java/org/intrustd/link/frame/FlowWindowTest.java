package org.intrustd.link.frame;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class FlowWindowTest {
  @Test
  void aSenderHasTheInitialWindowThenWaitsForAGrant() throws Exception {
    FlowWindow w = new FlowWindow();
    int sent = 0;
    while (sent < FlowWindow.INITIAL) {
      int n = w.awaitCredit(StreamFrame.MAX_PAYLOAD);
      assertThat(n).isBetween(1, StreamFrame.MAX_PAYLOAD);
      w.spend(n);
      sent += n;
    }
    assertThat(sent).isEqualTo(FlowWindow.INITIAL);
    CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return w.awaitCredit(StreamFrame.MAX_PAYLOAD);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(100);
    assertThat(waiting).as("no credit left").isNotDone();
    assertThat(w.granted(1000)).isTrue();
    assertThat(waiting.get(5, TimeUnit.SECONDS)).isEqualTo(1000);
    assertThatThrownBy(() -> w.spend(1001)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void closingWakesAWaitingSenderWithNoCredit() throws Exception {
    FlowWindow w = new FlowWindow();
    w.spend(FlowWindow.INITIAL);
    CompletableFuture<Integer> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return w.awaitCredit(10);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(50);
    w.close();
    assertThat(waiting.get(5, TimeUnit.SECONDS)).isZero();
  }

  @Test
  void creditOver2To31Minus1IsAProtocolError() {
    FlowWindow w = new FlowWindow();
    assertThat(w.granted(Integer.MAX_VALUE - FlowWindow.INITIAL)).isTrue();
    assertThat(w.granted(1)).isFalse();
    assertThat(w.granted(0)).isFalse();
  }

  @Test
  void aPeerMaySendExactlyWhatWasGrantedAndNoMore() {
    FlowWindow w = new FlowWindow();
    assertThat(w.received(FlowWindow.INITIAL - 1)).isTrue();
    assertThat(w.received(2)).as("one byte past the window").isFalse();
    assertThat(w.received(1)).isTrue();
  }

  /** Whatever the frame sizes and consumption order, the peer never lacks credit for what was consumed. */
  @Test
  void grantsGiveBackEverythingConsumedInStepsAndNeverMore() {
    Property.forAll(300, Gen.ints(1, StreamFrame.MAX_PAYLOAD).list(200), frames -> {
      FlowWindow receiver = new FlowWindow();
      FlowWindow sender = new FlowWindow();
      long granted = 0;
      for (int n : frames) {
        // the sender sends n bytes in pieces its credit allows; the receiver consumes them at once
        for (int left = n; left > 0; ) {
          int piece = (int) Math.min(left, creditOf(sender));
          assertThat(piece).as("the sender never runs dry while the receiver consumes").isPositive();
          sender.spend(piece);
          assertThat(receiver.received(piece)).isTrue();
          int increment = receiver.consumed(piece);
          if (increment > 0) {
            assertThat(increment).isGreaterThanOrEqualTo(FlowWindow.GRANT_STEP);
            assertThat(sender.granted(increment)).isTrue();
            granted += increment;
          }
          left -= piece;
        }
      }
      long total = frames.stream().mapToLong(Integer::longValue).sum();
      assertThat(granted).isBetween(total - FlowWindow.GRANT_STEP, total);
    });
  }

  private static long creditOf(FlowWindow w) {
    try {
      return w.awaitCredit(Integer.MAX_VALUE);
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }
}
