package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.ClientMessage;

/** A test peer on the JDK WebSocket client: collects whole text messages and the close status. */
final class WsPeer implements WebSocket.Listener {
  static final Duration PATIENCE = Duration.ofSeconds(5);

  private final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
  private final CompletableFuture<Integer> closed = new CompletableFuture<>();
  private final StringBuilder partial = new StringBuilder();
  private final boolean onApplianceEndpoint;
  private WebSocket socket;

  private WsPeer(boolean onApplianceEndpoint) {
    this.onApplianceEndpoint = onApplianceEndpoint;
  }

  static WsPeer connect(HttpClient http, URI uri) {
    WsPeer peer = new WsPeer(uri.getPath().endsWith("/appliance"));
    peer.socket = http.newWebSocketBuilder().buildAsync(uri, peer).orTimeout(5, TimeUnit.SECONDS).join();
    return peer;
  }

  @Override
  public void onOpen(WebSocket webSocket) {
    webSocket.request(1);
  }

  @Override
  public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
    partial.append(data);
    if (last) {
      texts.add(partial.toString());
      partial.setLength(0);
    }
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete(statusCode);
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.complete(-1);
  }

  void send(String text) {
    socket.sendText(text, true).orTimeout(5, TimeUnit.SECONDS).join();
  }

  /** Encodes a message for the endpoint this peer is connected to. */
  void send(Record message) {
    send(onApplianceEndpoint
        ? SignalCodec.encode((ApplianceMessage) message)
        : SignalCodec.encode((ClientMessage) message));
  }

  void sendBinary(byte[] bytes) {
    socket.sendBinary(ByteBuffer.wrap(bytes), true).orTimeout(5, TimeUnit.SECONDS).join();
  }

  /** The next text message, failing the test if none comes in time. */
  String next() {
    return next(PATIENCE);
  }

  String next(Duration patience) {
    try {
      String text = texts.poll(patience.toMillis(), TimeUnit.MILLISECONDS);
      if (text == null) {
        fail("no message within " + patience);
      }
      return text;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  ClientMessage nextClient() {
    return nextClient(PATIENCE);
  }

  ClientMessage nextClient(Duration patience) {
    return switch (SignalCodec.decodeClient(next(patience))) {
      case Decoded.Ok<ClientMessage> ok -> ok.message();
      case Decoded.Invalid<ClientMessage> bad -> throw new AssertionError("flock sent an invalid message: " + bad);
    };
  }

  ApplianceMessage nextAppliance() {
    return nextAppliance(PATIENCE);
  }

  ApplianceMessage nextAppliance(Duration patience) {
    return switch (SignalCodec.decodeAppliance(next(patience))) {
      case Decoded.Ok<ApplianceMessage> ok -> ok.message();
      case Decoded.Invalid<ApplianceMessage> bad -> throw new AssertionError("flock sent an invalid message: " + bad);
    };
  }

  <T> T nextClient(Class<T> type) {
    return type.cast(assertThatIs(nextClient(), type));
  }

  <T> T nextAppliance(Class<T> type) {
    return type.cast(assertThatIs(nextAppliance(), type));
  }

  <T> T nextClient(Class<T> type, Duration patience) {
    return type.cast(assertThatIs(nextClient(patience), type));
  }

  <T> T nextAppliance(Class<T> type, Duration patience) {
    return type.cast(assertThatIs(nextAppliance(patience), type));
  }

  /** True when no message arrives within {@code wait}. */
  boolean quietFor(Duration wait) {
    try {
      return texts.poll(wait.toMillis(), TimeUnit.MILLISECONDS) == null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The close status the flock sent, waiting for it. */
  int closeStatus() {
    return closed.orTimeout(PATIENCE.toMillis(), TimeUnit.MILLISECONDS).join();
  }

  boolean isClosed() {
    return closed.isDone();
  }

  /** A clean close from our side, as a browser tab that navigates away. */
  void closeNormally() {
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(5, TimeUnit.SECONDS).join();
  }

  void abort() {
    socket.abort();
  }

  private static Object assertThatIs(Object message, Class<?> type) {
    assertThat(message).isInstanceOf(type);
    return message;
  }
}
