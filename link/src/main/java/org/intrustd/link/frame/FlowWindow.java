package org.intrustd.link.frame;

import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Credit-based flow control of one stream channel, both directions (docs/spec/channels.md "Flow
 * control"). Each side may have at most {@link #INITIAL} DATA payload bytes outstanding until
 * its peer grants more with WINDOW frames, which a receiver sends as its consumer takes the
 * bytes. So a reader that stops reading holds at most one window in memory, and a slow reader
 * never has to block the engine thread that the link's other channels share.
 *
 * <p>Thread-safe: the engine thread reports frames, one sender thread waits for credit, and one
 * consumer thread reports what it took.
 */
public final class FlowWindow {
  /**
   * What each direction may send before any WINDOW: 4 MiB, ~140 ms at a data channel's 30 MB/s
   * (with 2 MiB, a 256 MiB download through the shim ran at 0.85 of a raw channel; with 4 MiB, 1.00).
   */
  public static final int INITIAL = 4 << 20;
  /** Consumed bytes are granted back in steps of at least this, not after every frame. */
  public static final int GRANT_STEP = INITIAL / 4;
  private static final long MAX_CREDIT = Integer.MAX_VALUE;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition creditChanged = lock.newCondition();
  private long sendCredit = INITIAL;
  private long receiveAllowance = INITIAL;
  private long ungranted;
  private boolean closed;

  // ------------------------------------------------------------ sending

  /**
   * Waits until the peer lets this side send, and returns how many payload bytes it may send
   * now: between 1 and {@code max}; 0 once {@link #close}d.
   */
  public int awaitCredit(int max) throws InterruptedException {
    lock.lock();
    try {
      while (!closed && sendCredit == 0) {
        creditChanged.await();
      }
      return closed ? 0 : (int) Math.min(max, sendCredit);
    } finally {
      lock.unlock();
    }
  }

  /** Records {@code n} payload bytes sent; the caller had the credit from {@link #awaitCredit}. */
  public void spend(int n) {
    lock.lock();
    try {
      if (n < 0 || n > sendCredit) {
        throw new IllegalStateException("spending " + n + " bytes with a credit of " + sendCredit);
      }
      sendCredit -= n;
    } finally {
      lock.unlock();
    }
  }

  /** A WINDOW frame arrived; false (a protocol error) when the credit would pass 2^31-1. */
  public boolean granted(int increment) {
    lock.lock();
    try {
      if (increment <= 0 || sendCredit + increment > MAX_CREDIT) {
        return false;
      }
      sendCredit += increment;
      creditChanged.signalAll();
      return true;
    } finally {
      lock.unlock();
    }
  }

  // ------------------------------------------------------------ receiving

  /** A DATA frame of {@code n} payload bytes arrived; false (a protocol error) when the peer had no credit for it. */
  public boolean received(int n) {
    lock.lock();
    try {
      if (n > receiveAllowance) {
        return false;
      }
      receiveAllowance -= n;
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * The consumer took {@code n} received bytes. Returns the increment of the WINDOW frame to send
   * now, or 0 when too little has been taken since the last one to be worth a frame.
   */
  public int consumed(int n) {
    lock.lock();
    try {
      ungranted += n;
      if (ungranted < GRANT_STEP) {
        return 0;
      }
      int increment = (int) ungranted;
      receiveAllowance += ungranted;
      ungranted = 0;
      return increment;
    } finally {
      lock.unlock();
    }
  }

  /** The channel is gone: senders waiting for credit get 0. Idempotent. */
  public void close() {
    lock.lock();
    try {
      closed = true;
      creditChanged.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
