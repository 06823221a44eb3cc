package org.intrustd.appliance.egress;

import static org.assertj.core.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** What an app does: connects to the proxy's socket, sends a request, reads the answer and the tunnel. Every read has a deadline. */
final class ProxyClient implements AutoCloseable {
  static final Duration DEADLINE = Duration.ofSeconds(5);

  /** A response head and its body (when it has a Content-Length). */
  record Response(int status, String head, String body) {}

  private final SocketChannel ch;

  ProxyClient(Path socket) throws IOException {
    ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
  }

  static ProxyClient connect(Path socket, String authority) throws IOException {
    ProxyClient c = new ProxyClient(socket);
    c.send("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\nUser-Agent: test\r\n\r\n");
    return c;
  }

  void send(String s) throws IOException {
    send(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  void send(byte[] b) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(b);
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  void endOutput() throws IOException {
    ch.shutdownOutput();
  }

  Response response() {
    return within(DEADLINE, () -> {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      ByteBuffer one = ByteBuffer.allocate(1);
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        one.clear();
        if (ch.read(one) < 0) {
          fail("the proxy closed before the end of its answer: '" + head.toString(StandardCharsets.ISO_8859_1) + "'");
        }
        head.write(one.get(0));
      }
      String h = head.toString(StandardCharsets.ISO_8859_1);
      int status = Integer.parseInt(h.substring(9, 12));
      int length = 0;
      for (String line : h.split("\r\n")) {
        if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      return new Response(status, h, new String(readExactly(length), StandardCharsets.UTF_8));
    });
  }

  byte[] read(int n) {
    return within(DEADLINE, () -> readExactly(n));
  }

  private byte[] readExactly(int n) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(n);
    while (buf.hasRemaining()) {
      if (ch.read(buf) < 0) {
        fail("EOF after " + buf.position() + " of " + n + " bytes");
      }
    }
    return buf.array();
  }

  /** Whether the proxy ends the connection within {@code d}: EOF or reset, after any bytes still in flight. */
  boolean endsWithin(Duration d) {
    try {
      return within(d, () -> {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        try {
          while (true) {
            buf.clear();
            if (ch.read(buf) < 0) {
              return true;
            }
          }
        } catch (IOException e) {
          return true;
        }
      });
    } catch (AssertionError e) {
      return false;
    }
  }

  private <T> T within(Duration d, Callable<T> read) {
    FutureTask<T> task = new FutureTask<>(read);
    Thread.ofVirtual().name("proxy-client").start(task);
    try {
      return task.get(d.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      close();
      throw new AssertionError("no answer from the proxy within " + d);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AssertionError a) {
        throw a;
      }
      throw new AssertionError(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    try {
      ch.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
