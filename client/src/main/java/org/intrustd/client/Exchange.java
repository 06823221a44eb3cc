package org.intrustd.client;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import org.intrustd.link.Channel;
import org.intrustd.link.frame.FlowWindow;
import org.intrustd.link.frame.StreamFrame;

/**
 * One HTTP exchange on one data channel (docs/spec/channels.md): the request goes out in DATA
 * frames and END, and the response is collected until the appliance's END. Bounded: a response
 * over {@code maxResponse} bytes resets the channel. Flow control (channels.md): the request
 * waits for credit; the response is credited as it arrives, since it is collected whole.
 */
final class Exchange implements Channel.Handler {
  private final Channel channel;
  private final int maxResponse;
  private final CountDownLatch opened = new CountDownLatch(1);
  private final CountDownLatch finished = new CountDownLatch(1);
  private final ByteArrayOutputStream received = new ByteArrayOutputStream();
  private final FlowWindow flow = new FlowWindow();
  private volatile String failure;

  Exchange(Channel channel, int maxResponse) {
    this.channel = channel;
    this.maxResponse = maxResponse;
    channel.setHandler(this);
  }

  @Override
  public void onOpen() {
    opened.countDown();
  }

  @Override
  public void onMessage(ByteBuffer data, boolean binary) {
    if (finished.getCount() == 0) {
      return;
    }
    if (!binary) {
      fail("the appliance sent a text message on an intrustd/1 channel");
      return;
    }
    switch (StreamFrame.decode(data)) {
      case StreamFrame.Decoded.Invalid bad -> fail("the appliance sent a bad frame: " + bad.reason());
      case StreamFrame.Decoded.Ok ok -> {
        switch (ok.frame()) {
          case StreamFrame.Data d -> {
            int n = d.payload().remaining();
            if (!flow.received(n)) {
              fail("the appliance sent more than the flow-control window allows");
              return;
            }
            if (received.size() + n > maxResponse) {
              fail("the response is over " + maxResponse + " bytes");
              return;
            }
            byte[] bytes = new byte[d.payload().remaining()];
            d.payload().get(bytes);
            synchronized (received) {
              received.writeBytes(bytes);
            }
            credit(flow.consumed(n));
          }
          case StreamFrame.Window w -> {
            if (!flow.granted(w.increment())) {
              fail("the appliance sent a WINDOW credit over 2^31-1");
            }
          }
          case StreamFrame.End e -> finished.countDown();
          case StreamFrame.Reset r -> fail("the appliance reset the exchange" + (r.reason().isEmpty() ? "" : ": " + r.reason()));
        }
      }
    }
  }

  /**
   * Sends a WINDOW frame off the engine thread, which must not wait on the channel's send
   * queue; increments add up in any order.
   */
  private void credit(int increment) {
    if (increment > 0) {
      Thread.ofVirtual().start(() -> {
        try {
          channel.send(StreamFrame.encode(new StreamFrame.Window(increment)));
        } catch (InterruptedException | RuntimeException e) {
          // the exchange is over
        }
      });
    }
  }

  @Override
  public void onClose() {
    flow.close();
    if (finished.getCount() > 0) {
      failure = failure == null ? "the channel closed before the response was complete" : failure;
      finished.countDown();
    }
  }

  private void fail(String why) {
    failure = why;
    finished.countDown();
    flow.close();
    try {
      channel.send(StreamFrame.encode(new StreamFrame.Reset(why.length() > 200 ? why.substring(0, 200) : why)));
    } catch (InterruptedException | RuntimeException e) {
      // closing anyway
    }
    channel.close();
  }

  /** Closes the channel unused. */
  void abandon() {
    channel.close();
  }

  /**
   * Sends the request (its head, then {@code body} to its end, reporting the body bytes sent to
   * {@code progress}), waits for the whole response, closes the channel. The timeout applies to
   * the channel's opening and to the response after the request, not to a long upload.
   */
  HttpResult run(byte[] head, InputStream body, LongConsumer progress, Duration timeout) {
    try {
      if (!opened.await(timeout.toMillis(), TimeUnit.MILLISECONDS) && !channel.isOpen()) {
        throw new ClientException("the channel did not open within " + timeout.toSeconds() + " s");
      }
      send(new ByteArrayInputStream(head), n -> { });
      send(body, progress);
      channel.send(StreamFrame.encode(new StreamFrame.End()));
      if (!finished.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new ClientException("no complete response within " + timeout.toSeconds() + " s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClientException("interrupted", e);
    } catch (IOException e) {
      throw new ClientException("cannot read the request body: " + e.getMessage(), e);
    } finally {
      flow.close();
      channel.close();
    }
    if (failure != null) {
      throw new ClientException(failure);
    }
    synchronized (received) {
      return ResponseParser.parse(received.toByteArray());
    }
  }

  /** Sends {@code in} to its end as DATA frames, each as large as the credit allows. */
  private void send(InputStream in, LongConsumer progress) throws IOException, InterruptedException {
    byte[] buf = new byte[StreamFrame.MAX_PAYLOAD];
    long sent = 0;
    while (true) {
      int credit = flow.awaitCredit(buf.length);
      if (credit == 0) {
        throw new ClientException(failure != null ? failure : "the channel closed while the request was sent");
      }
      int n = in.readNBytes(buf, 0, credit);
      if (n == 0) {
        return;
      }
      flow.spend(n);
      channel.send(StreamFrame.encode(new StreamFrame.Data(ByteBuffer.wrap(buf, 0, n))));
      sent += n;
      progress.accept(sent);
    }
  }
}
