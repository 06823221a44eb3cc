package org.intrustd.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.intrustd.link.Channel;
import org.intrustd.link.frame.FlowWindow;
import org.intrustd.link.frame.StreamFrame;

/**
 * One stream channel (docs/spec/channels.md) as a pair of byte streams: what the caller writes
 * goes out in DATA frames, as the peer's credit allows, and {@code close()} of the output sends
 * END; what the peer sends is read from {@link #in()}, and credit goes back as it is read. So a
 * reader that stops reading holds at most one flow-control window (4 MiB), however large the
 * body, and the engine thread that the link's channels share never waits.
 *
 * <p>One thread writes and one reads; the engine delivers frames on its own thread.
 */
public final class ChannelStream implements Channel.Handler, AutoCloseable {
  /** Marks the end of what the peer sends (END, RESET or the channel's close). */
  private static final byte[] EOF = new byte[0];

  private final Channel channel;
  private final FlowWindow flow = new FlowWindow();
  private final CountDownLatch opened = new CountDownLatch(1);
  private final LinkedBlockingQueue<byte[]> inbox = new LinkedBlockingQueue<>();
  private final Input input = new Input();
  private final Output output = new Output();
  private volatile boolean ended; // END, RESET or close seen
  private volatile String failure; // why the peer's stream ended badly, if it did

  ChannelStream(Channel channel) {
    this.channel = channel;
    channel.setHandler(this); // before the channel opens: no event is missed
  }

  /** Waits until the channel is open; a {@link ClientException} if it does not open in time. */
  public ChannelStream awaitOpen(Duration timeout) {
    try {
      if (!opened.await(timeout.toMillis(), TimeUnit.MILLISECONDS) && !channel.isOpen()) {
        throw new ClientException(failure != null ? failure : "the channel did not open within " + timeout.toSeconds() + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClientException("interrupted", e);
    }
    if (ended && !channel.isOpen()) {
      throw new ClientException(failure != null ? failure : "the appliance closed the channel");
    }
    return this;
  }

  /** What the peer sends, until its END; an {@link IOException} if it resets the channel or the link fails. */
  public InputStream in() {
    return input;
  }

  /** What goes to the peer; {@code close()} sends END. */
  public OutputStream out() {
    return output;
  }

  /** Why the peer's stream ended badly (a RESET's reason, a protocol error, a lost channel), if it did. */
  public String failure() {
    return failure;
  }

  /** Whether the channel is still open (neither side has closed it, nor has the link failed). */
  public boolean isOpen() {
    return channel.isOpen();
  }

  /** Abandons the exchange: RESET with {@code reason}, then close. */
  public void reset(String reason) {
    fail(reason, true);
  }

  @Override
  public void close() {
    flow.close();
    channel.close();
  }

  // ------------------------------------------------------------------ engine events

  @Override
  public void onOpen() {
    opened.countDown();
  }

  @Override
  public void onMessage(ByteBuffer data, boolean binary) {
    if (ended) {
      return;
    }
    if (!binary) {
      fail("the peer sent a text message on an intrustd/1 channel", true);
      return;
    }
    switch (StreamFrame.decode(data)) {
      case StreamFrame.Decoded.Invalid bad -> fail("the peer sent a bad frame: " + bad.reason(), true);
      case StreamFrame.Decoded.Ok ok -> {
        switch (ok.frame()) {
          case StreamFrame.Data d -> {
            if (!flow.received(d.payload().remaining())) {
              fail("the peer sent more than the flow-control window allows", true);
              return;
            }
            byte[] bytes = new byte[d.payload().remaining()];
            d.payload().get(bytes);
            if (bytes.length > 0) {
              inbox.add(bytes);
            }
          }
          case StreamFrame.Window w -> {
            if (!flow.granted(w.increment())) {
              fail("the peer sent a WINDOW credit over 2^31-1", true);
            }
          }
          case StreamFrame.End e -> {
            ended = true;
            inbox.add(EOF);
          }
          case StreamFrame.Reset r -> fail("the appliance reset the exchange" + (r.reason().isEmpty() ? "" : ": " + r.reason()), false);
        }
      }
    }
  }

  @Override
  public void onClose() {
    opened.countDown();
    flow.close();
    if (!ended) {
      failure = failure == null ? "the channel closed before the response was complete" : failure;
      ended = true;
      inbox.add(EOF);
    }
  }

  /** Ends both directions: readers see {@code why}, writers get 0 credit; RESET tells the peer when {@code tell}. */
  private void fail(String why, boolean tell) {
    if (failure == null) {
      failure = why;
    }
    ended = true;
    inbox.add(EOF);
    flow.close();
    if (tell) {
      Thread.ofVirtual().start(() -> { // never block the engine thread on the send queue
        try {
          channel.send(StreamFrame.encode(new StreamFrame.Reset(why.length() > 200 ? why.substring(0, 200) : why)));
        } catch (InterruptedException | RuntimeException e) {
          // closing anyway
        }
        channel.close();
      });
    } else {
      channel.close();
    }
  }

  // ------------------------------------------------------------------ streams

  private final class Input extends InputStream {
    private byte[] current;
    private int position;
    private boolean done;

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) == 1 ? one[0] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (!fill()) {
        return -1;
      }
      int n = Math.min(len, current.length - position);
      System.arraycopy(current, position, b, off, n);
      position += n;
      if (position == current.length) {
        credit(current.length);
        current = null;
      }
      return n;
    }

    @Override
    public int available() {
      return current == null ? 0 : current.length - position;
    }

    /** Whether there are bytes to read (waiting for them); false at the peer's END. */
    private boolean fill() throws IOException {
      if (current != null) {
        return true;
      }
      if (done) {
        return endOrFailure();
      }
      try {
        byte[] next = inbox.take();
        if (next == EOF) {
          done = true;
          return endOrFailure();
        }
        current = next;
        position = 0;
        return true;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while reading from the channel");
      }
    }

    private boolean endOrFailure() throws IOException {
      if (failure != null) {
        throw new IOException(failure);
      }
      return false;
    }

    private void credit(int n) throws IOException {
      int increment = flow.consumed(n);
      if (increment > 0 && !ended) {
        send(new StreamFrame.Window(increment));
      }
    }

    @Override
    public void close() {
      done = true;
    }
  }

  private final class Output extends OutputStream {
    private boolean closed;

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (closed) {
        throw new IOException("the request body is finished already");
      }
      while (len > 0) {
        int credit;
        try {
          credit = flow.awaitCredit(Math.min(len, StreamFrame.MAX_PAYLOAD));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for the peer's credit");
        }
        if (credit == 0) {
          throw new IOException(failure != null ? failure : "the channel closed");
        }
        flow.spend(credit);
        send(new StreamFrame.Data(ByteBuffer.wrap(b, off, credit)));
        off += credit;
        len -= credit;
      }
    }

    @Override
    public void close() throws IOException {
      if (!closed) {
        closed = true;
        if (failure == null) {
          send(new StreamFrame.End());
        }
      }
    }
  }

  private void send(StreamFrame frame) throws IOException {
    try {
      channel.send(StreamFrame.encode(frame));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while sending");
    } catch (RuntimeException e) {
      throw new IOException(failure != null ? failure : "the channel closed: " + e.getMessage(), e);
    }
  }
}
