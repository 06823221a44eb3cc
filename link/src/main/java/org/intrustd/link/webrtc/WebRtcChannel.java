package org.intrustd.link.webrtc;

import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelBuffer;
import dev.onvoid.webrtc.RTCDataChannelObserver;
import dev.onvoid.webrtc.RTCDataChannelState;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.intrustd.link.Channel;
import org.intrustd.link.LinkException;

/**
 * A data channel with back-pressure on send: senders wait while more than
 * {@link Channel#HIGH_WATER} bytes are queued and re-check the amount.
 *
 * <p>webrtc-java 0.14.0 never calls {@code onBufferedAmountChange} (its native observer forwards
 * only state changes and messages; measured: 0 calls over thousands of sends), so the wait is in
 * effect a poll of {@code getBufferedAmount()} every {@code POLL_MS} ms. The poll must be short
 * enough that the queue cannot drain while we sleep: 1 MiB per 50 ms would cap a channel at about
 * 20 MB/s. The callback still signals, in case a later binding delivers it.
 *
 * <p>Threading: engine callbacks never take locks, and handlers must not call {@link #send}
 * from a callback; our own threads' native calls hold {@code nativeLock}.
 */
final class WebRtcChannel implements Channel {
  // HIGH_WATER / POLL_MS = 1 MiB per 5 ms: no starving below ~200 MB/s.
  private static final long POLL_MS = 5;
  private final RTCDataChannel dc;
  private final Executor janitor;
  private final String label;
  private final String protocol;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition drained = lock.newCondition();
  // Native calls hold the read lock; disposal takes the write lock, so no call can reach a
  // freed native channel (which would crash the JVM, not throw).
  private final ReentrantReadWriteLock nativeLock = new ReentrantReadWriteLock();
  private boolean disposed;
  // Updated only in the engine's state callback, so that readers need no native call.
  private volatile RTCDataChannelState state;
  private volatile Handler handler;
  private volatile Runnable onFinished = () -> {};
  private volatile Runnable onClosing = () -> {};
  private boolean openSignalled;
  private boolean closeSignalled;

  WebRtcChannel(RTCDataChannel dc, Executor janitor) {
    this.dc = dc;
    this.janitor = janitor;
    // The binding reports an empty label or protocol as null; callers get "".
    this.label = java.util.Objects.requireNonNullElse(dc.getLabel(), "");
    this.protocol = java.util.Objects.requireNonNullElse(dc.getProtocol(), "");
    dc.registerObserver(new RTCDataChannelObserver() {
      @Override
      public void onBufferedAmountChange(long previous) {
        signalDrained(); // senders re-check the amount themselves; callbacks take no locks
      }

      @Override
      public void onStateChange() {
        state = dc.getState();
        Guard.run("channel state", WebRtcChannel.this::stateChanged);
      }

      @Override
      public void onMessage(RTCDataChannelBuffer buffer) {
        Handler h = handler;
        if (h != null) {
          Guard.run("channel message", () -> h.onMessage(buffer.data, buffer.binary));
        }
      }
    });
    // Read after registering: a peer that closes the channel at once changes its state before
    // the observer is there, and that change has no callback (a client then waited forever).
    this.state = dc.getState();
  }

  void onFinished(Runnable r) {
    this.onFinished = r;
  }

  /** Runs when this end starts closing the channel (its stream id may be reused from then on). */
  void onClosing(Runnable r) {
    this.onClosing = r;
  }

  @Override
  public String label() {
    return label;
  }

  @Override
  public String protocol() {
    return protocol;
  }

  @Override
  public void setHandler(Handler handler) {
    this.handler = handler;
    stateChanged(); // the channel may already be open (the peer opened it)
  }

  private void stateChanged() {
    Handler h = handler;
    if (h == null) {
      return;
    }
    RTCDataChannelState s = state;
    boolean fireOpen;
    boolean fireClose;
    if (s == RTCDataChannelState.CLOSING) {
      onClosing.run(); // the peer started it
    }
    synchronized (this) {
      fireOpen = s == RTCDataChannelState.OPEN && !openSignalled;
      openSignalled |= fireOpen;
      fireClose = s == RTCDataChannelState.CLOSED && !closeSignalled;
      closeSignalled |= fireClose;
    }
    if (fireOpen) {
      h.onOpen();
    }
    if (fireClose) {
      signalDrained();
      h.onClose();
      onFinished.run();
      try {
        janitor.execute(this::dispose);
      } catch (RejectedExecutionException e) {
        // the factory is shutting down; it frees everything with the engine
      }
    }
  }

  private void signalDrained() {
    lock.lock();
    try {
      drained.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The link closed under this channel: its handler hears of the close now if it has not yet (once, either way). */
  void ended() {
    state = RTCDataChannelState.CLOSED;
    Guard.run("channel state", this::stateChanged);
  }

  /**
   * Makes every later call on this channel a no-op, without freeing it: called before the
   * engine is freed, which frees the native channel underneath us.
   */
  void retire() {
    nativeLock.writeLock().lock();
    try {
      disposed = true;
      state = RTCDataChannelState.CLOSED;
    } finally {
      nativeLock.writeLock().unlock();
    }
    signalDrained();
  }

  private void dispose() {
    nativeLock.writeLock().lock();
    try {
      if (disposed) {
        return;
      }
      disposed = true;
      dc.unregisterObserver();
      dc.dispose();
    } finally {
      nativeLock.writeLock().unlock();
    }
  }

  @Override
  public void send(ByteBuffer message) throws InterruptedException {
    lock.lock();
    try {
      while (isOpen() && bufferedAmount() > HIGH_WATER) {
        // A timed wait: the binding sends no buffered-amount events (see the class comment).
        drained.await(POLL_MS, TimeUnit.MILLISECONDS);
      }
    } finally {
      lock.unlock();
    }
    // The binding sends a heap buffer's whole backing array and a direct buffer from its
    // start, so hand it exactly the bytes to send.
    ByteBuffer exact;
    if (message.isDirect()) {
      exact = message.slice();
    } else {
      byte[] copy = new byte[message.remaining()];
      message.get(copy);
      exact = ByteBuffer.wrap(copy);
    }
    nativeLock.readLock().lock();
    try {
      if (disposed || dc.getState() != RTCDataChannelState.OPEN) {
        throw new LinkException("channel " + label + " is closed");
      }
      dc.send(new RTCDataChannelBuffer(exact, true));
    } catch (LinkException e) {
      throw e;
    } catch (Exception e) {
      throw new LinkException("cannot send on channel " + label + ": " + e.getMessage(), e);
    } finally {
      nativeLock.readLock().unlock();
    }
  }

  private long bufferedAmount() {
    nativeLock.readLock().lock();
    try {
      return disposed ? 0 : dc.getBufferedAmount();
    } finally {
      nativeLock.readLock().unlock();
    }
  }

  @Override
  public boolean isOpen() {
    return state == RTCDataChannelState.OPEN;
  }

  @Override
  public void close() {
    nativeLock.readLock().lock();
    try {
      if (!disposed) {
        RTCDataChannelState s = dc.getState();
        if (s == RTCDataChannelState.OPEN || s == RTCDataChannelState.CONNECTING) {
          onClosing.run();
          dc.close();
        }
      }
    } finally {
      nativeLock.readLock().unlock();
    }
  }
}
