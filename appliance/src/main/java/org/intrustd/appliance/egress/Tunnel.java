package org.intrustd.appliance.egress;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One open CONNECT tunnel: the app's connection on the proxy's Unix socket and the daemon's TCP
 * connection to the address it checked. Two pumps copy bytes, each through its own bounded
 * buffer; when one side ends its stream the other side's output is shut down (half-close),
 * and the tunnel closes once both directions have ended, or at once on an error, a
 * revocation or the proxy's close. {@link #close} is idempotent and thread-safe; the first
 * reason is the one logged.
 */
final class Tunnel {
  static final int BUFFER = 16 * 1024;

  final String appId;
  final Target target;
  final InetAddress address;
  private final SocketChannel app;
  private final Socket remote;
  private final Consumer<Tunnel> onClose;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong received = new AtomicLong();
  private final AtomicInteger openDirections = new AtomicInteger(2);
  private final AtomicBoolean opened = new AtomicBoolean();
  private final AtomicBoolean closed = new AtomicBoolean();

  Tunnel(String appId, Target target, InetAddress address, SocketChannel app, Socket remote, Consumer<Tunnel> onClose) {
    this.appId = appId;
    this.target = target;
    this.address = address;
    this.app = app;
    this.remote = remote;
    this.onClose = onClose;
  }

  /** Tells the app the tunnel is open and forwards what it sent ahead of the answer. */
  void open(ByteBuffer early) throws IOException {
    opened.set(true);
    EgressProxy.LOG.log(Level.INFO, () -> "app '" + appId + "': tunnel to " + target + " opened (" + HostSyntax.address(address) + ")");
    writeAll(ByteBuffer.wrap(Reply.ESTABLISHED));
    if (early.hasRemaining()) {
      int n = early.remaining();
      remote.getOutputStream().write(early.array(), early.arrayOffset() + early.position(), n);
      sent.addAndGet(n);
    }
  }

  /** Copies the app's bytes to the remote host until the app ends its side; runs on the caller's thread. */
  void pumpFromApp() {
    ByteBuffer buf = ByteBuffer.allocate(BUFFER);
    try {
      OutputStream out = remote.getOutputStream();
      while (true) {
        buf.clear();
        int n = app.read(buf);
        if (n < 0) {
          remote.shutdownOutput();
          break;
        }
        out.write(buf.array(), 0, n);
        sent.addAndGet(n);
      }
      directionEnded();
    } catch (IOException | RuntimeException e) {
      close("app side: " + e.getMessage());
    }
  }

  /** Copies the remote host's bytes to the app until the host ends its side. */
  void pumpFromRemote() {
    byte[] buf = new byte[BUFFER];
    try {
      InputStream in = remote.getInputStream();
      while (true) {
        int n = in.read(buf);
        if (n < 0) {
          app.shutdownOutput();
          break;
        }
        writeAll(ByteBuffer.wrap(buf, 0, n));
        received.addAndGet(n);
      }
      directionEnded();
    } catch (IOException | RuntimeException e) {
      close("remote side: " + e.getMessage());
    }
  }

  private void writeAll(ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      app.write(b);
    }
  }

  private void directionEnded() {
    if (openDirections.decrementAndGet() == 0) {
      close("ended");
    }
  }

  /** Before it opened: closes the remote connection only, so that the app can still be told why. */
  void abandon() {
    if (closed.compareAndSet(false, true)) {
      closeQuietly(remote);
      onClose.accept(this);
    }
  }

  /** Closes both connections (which stops both pumps) and logs what the tunnel carried. */
  void close(String why) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    closeQuietly(remote);
    closeQuietly(app);
    onClose.accept(this);
    if (opened.get()) {
      EgressProxy.LOG.log(Level.INFO, () -> "app '" + appId + "': tunnel to " + target + " (" + HostSyntax.address(address)
          + ") closed (" + why + "): " + sent.get() + " bytes sent, " + received.get() + " bytes received");
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      EgressProxy.LOG.log(Level.DEBUG, "closing a tunnel: {0}", e.getMessage());
    }
  }
}
