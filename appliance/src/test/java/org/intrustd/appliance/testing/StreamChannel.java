package org.intrustd.appliance.testing;

import java.io.ByteArrayOutputStream;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.intrustd.link.Channel;
import org.intrustd.link.frame.FlowWindow;
import org.intrustd.link.frame.StreamFrame;

/**
 * The client's end of one stream channel (channels.md "Framing"): sends DATA/END/RESET and
 * reads the peer's stream as bytes, with the flow control of channels.md: the appliance gets
 * credit back as the test reads, so a slow reader pushes back on it as a browser's would.
 * Reads fail the test after a timeout.
 */
public final class StreamChannel implements Channel.Handler, AutoCloseable {
  public static final Duration PATIENCE = Duration.ofSeconds(20);

  /** What arrived, in order. */
  public sealed interface Event {
    record Data(byte[] bytes) implements Event {}

    record End() implements Event {}

    record Reset(String reason) implements Event {}

    /** A message that is not a valid frame (the appliance must never send one). */
    record Invalid(String why) implements Event {}

    record Closed() implements Event {}
  }

  /** The peer sent RESET (or closed) where the reader expected stream bytes. */
  public static final class StreamAborted extends RuntimeException {
    public final Event event;

    StreamAborted(Event event) {
      super("stream aborted: " + event);
      this.event = event;
    }
  }

  private final Channel channel;
  private final BlockingQueue<Event> events = new ArrayBlockingQueue<>(128);
  private final FlowWindow flow = new FlowWindow();
  private final CountDownLatch opened = new CountDownLatch(1);
  private final CountDownLatch closedLatch = new CountDownLatch(1);
  private volatile boolean closed;
  private byte[] current = new byte[0];
  private int position;
  private boolean ended;

  public StreamChannel(Channel channel) {
    this.channel = channel;
    channel.setHandler(this);
  }

  public Channel channel() {
    return channel;
  }

  /**
   * Waits until the channel is open, or already closed: a channel the appliance refuses at once
   * may close before this side ever reports it open (the link reads the state when its callback
   * runs, so OPEN can be skipped), and what it sent before closing is still delivered.
   */
  public StreamChannel awaitOpen() {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    try {
      while (!opened.await(10, TimeUnit.MILLISECONDS)) {
        if (closed) {
          return this;
        }
        if (System.nanoTime() > deadline) {
          throw new AssertionError("channel " + channel.label() + " did not open within " + PATIENCE);
        }
      }
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    return this;
  }

  // ------------------------------------------------------------ engine callbacks

  @Override
  public void onOpen() {
    opened.countDown();
  }

  @Override
  public void onMessage(ByteBuffer data, boolean binary) {
    Event event;
    if (!binary) {
      event = new Event.Invalid("text message");
    } else {
      event = switch (StreamFrame.decode(data)) {
        case StreamFrame.Decoded.Invalid bad -> new Event.Invalid(bad.reason());
        case StreamFrame.Decoded.Ok ok -> switch (ok.frame()) {
          case StreamFrame.Data d -> {
            if (!flow.received(d.payload().remaining())) {
              yield new Event.Invalid("more DATA than the flow-control window allows");
            }
            byte[] copy = new byte[d.payload().remaining()];
            d.payload().duplicate().get(copy);
            yield new Event.Data(copy);
          }
          case StreamFrame.End e -> new Event.End();
          case StreamFrame.Reset r -> new Event.Reset(r.reason());
          case StreamFrame.Window w -> flow.granted(w.increment()) ? null : new Event.Invalid("WINDOW credit over 2^31-1");
        };
      };
    }
    if (event == null) {
      return;
    }
    try {
      while (!closed && !events.offer(event, 50, TimeUnit.MILLISECONDS)) {
        // full: the test reads slower than the appliance sends; holding here slows it down
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void onClose() {
    closed = true;
    flow.close();
    events.offer(new Event.Closed());
    closedLatch.countDown();
  }

  // ------------------------------------------------------------ sending

  /** Sends bytes as DATA frames of at most 65,535 bytes each, as the appliance's credit allows. */
  public StreamChannel send(byte[] bytes) {
    return send(bytes, 0, bytes.length);
  }

  public StreamChannel send(byte[] bytes, int offset, int length) {
    try {
      for (int off = offset, n; off < offset + length; off += n) {
        n = flow.awaitCredit(Math.min(StreamFrame.MAX_PAYLOAD, offset + length - off));
        if (n == 0) {
          throw new org.intrustd.link.LinkException("channel " + channel.label() + " closed");
        }
        flow.spend(n);
        sendFrame(new StreamFrame.Data(ByteBuffer.wrap(bytes, off, n)));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
    return this;
  }

  public StreamChannel send(String latin1) {
    return send(latin1.getBytes(StandardCharsets.ISO_8859_1));
  }

  /**
   * Ends the request body. The appliance may already have reset and closed the channel (it does
   * so on a bad request without waiting for the end), as it may for any real client: then this
   * does nothing, and the test reads the reset.
   */
  public StreamChannel end() {
    try {
      return sendFrame(new StreamFrame.End());
    } catch (org.intrustd.link.LinkException e) {
      if (channel.isOpen()) {
        throw e;
      }
      return this;
    }
  }

  public StreamChannel reset(String reason) {
    return sendFrame(new StreamFrame.Reset(reason));
  }

  private StreamChannel sendFrame(StreamFrame frame) {
    sendRaw(StreamFrame.encode(frame));
    return this;
  }

  /** Sends one message as it is, framed or not. */
  public void sendRaw(ByteBuffer message) {
    try {
      channel.send(message);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Sends a <em>text</em> message, which {@link Channel} cannot (the protocol has none): through
   * the native channel behind the link's implementation, as a misbehaving browser could.
   */
  public void sendText(String text) {
    try {
      Field f = channel.getClass().getDeclaredField("dc");
      f.setAccessible(true);
      dev.onvoid.webrtc.RTCDataChannel dc = (dev.onvoid.webrtc.RTCDataChannel) f.get(channel);
      dc.send(new dev.onvoid.webrtc.RTCDataChannelBuffer(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), false));
    } catch (Exception e) {
      throw new AssertionError("cannot send a text message", e);
    }
  }

  // ------------------------------------------------------------ receiving

  /** The next event, failing the test if none comes in time. */
  public Event next() {
    try {
      Event e = events.poll(PATIENCE.toMillis(), TimeUnit.MILLISECONDS);
      if (e instanceof Event.Data d) {
        int increment = flow.consumed(d.bytes().length); // taken off the queue: the test holds at most this one
        if (increment > 0) {
          try {
            channel.send(StreamFrame.encode(new StreamFrame.Window(increment)));
          } catch (org.intrustd.link.LinkException closing) {
            // the appliance closed the channel: nothing more to credit
          }
        }
      }
      if (e == null) {
        if (closed) {
          return new Event.Closed();
        }
        throw new AssertionError("nothing arrived on " + channel.label() + " within " + PATIENCE);
      }
      return e;
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** Stream bytes that arrived and wait to be read. */
  public long queuedBytes() {
    long n = current.length - position;
    for (Event e : events) {
      if (e instanceof Event.Data d) {
        n += d.bytes().length;
      }
    }
    return n;
  }

  /** Skips stream bytes up to the first END, RESET, invalid message or close, and returns it. */
  public Event awaitTerminal() {
    while (true) {
      Event e = next();
      if (!(e instanceof Event.Data)) {
        return e;
      }
    }
  }

  /** Whether the channel closes within the patience. */
  public boolean awaitClosed(Duration patience) {
    try {
      return closedLatch.await(patience.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  /** Reads up to {@code length} stream bytes; -1 after END. Throws {@link StreamAborted} on RESET or close. */
  public int read(byte[] into, int offset, int length) {
    if (position == current.length) {
      if (ended) {
        return -1;
      }
      Event e = next();
      switch (e) {
        case Event.Data d -> {
          current = d.bytes();
          position = 0;
        }
        case Event.End end -> {
          ended = true;
          return -1;
        }
        case Event.Reset r -> throw new StreamAborted(r);
        case Event.Invalid i -> throw new StreamAborted(i);
        case Event.Closed c -> throw new StreamAborted(c);
      }
    }
    int n = Math.min(length, current.length - position);
    System.arraycopy(current, position, into, offset, n);
    position += n;
    return n;
  }

  public int read() {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  public byte[] readExactly(int n) {
    byte[] out = new byte[n];
    for (int off = 0; off < n; ) {
      int r = read(out, off, n - off);
      if (r < 0) {
        throw new AssertionError("END after " + off + " of " + n + " bytes");
      }
      off += r;
    }
    return out;
  }

  /** Everything up to END. */
  public byte[] readToEnd() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[65_536];
    for (int n; (n = read(buf, 0, buf.length)) >= 0; ) {
      out.write(buf, 0, n);
    }
    return out.toByteArray();
  }

  @Override
  public void close() {
    closed = true;
    flow.close();
    channel.close();
  }
}
