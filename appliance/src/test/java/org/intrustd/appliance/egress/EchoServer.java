package org.intrustd.appliance.egress;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP echo server on 127.0.0.1 that counts the connections it accepts and the ones that
 * ended. When a client ends its side it ends its own after echoing everything, so a client
 * sees EOF only if its own end travelled all the way here.
 */
final class EchoServer implements AutoCloseable {
  final AtomicInteger accepted = new AtomicInteger();
  final AtomicInteger ended = new AtomicInteger();
  private final ServerSocket server;

  EchoServer() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread.ofVirtual().name("echo-accept").start(this::acceptLoop);
  }

  int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        accepted.incrementAndGet();
        Thread.ofVirtual().name("echo").start(() -> echo(s));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void echo(Socket s) {
    try (s) {
      InputStream in = s.getInputStream();
      OutputStream out = s.getOutputStream();
      byte[] buf = new byte[8192];
      int n;
      while ((n = in.read(buf)) >= 0) {
        out.write(buf, 0, n);
      }
      s.shutdownOutput();
    } catch (IOException e) {
      // reset by the proxy: an end all the same
    } finally {
      ended.incrementAndGet();
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
