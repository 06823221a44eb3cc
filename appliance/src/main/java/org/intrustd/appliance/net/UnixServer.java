package org.intrustd.appliance.net;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * A listener on a Unix socket that serves each connection on its own virtual thread: the one
 * way the daemon's local endpoints (control API, app-call gateway) accept connections. A stale
 * socket file is replaced; closing stops accepting, interrupts open connections and removes
 * the file.
 */
public final class UnixServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.net");

  private final Path socket;
  private final ServerSocketChannel server;
  private final ExecutorService connections = Executors.newVirtualThreadPerTaskExecutor();

  private UnixServer(Path socket, ServerSocketChannel server) {
    this.socket = socket;
    this.server = server;
  }

  /**
   * Listens on {@code socket} with file mode {@code mode} (e.g. {@code rw-------}) and hands
   * every accepted connection to {@code serve}, which owns (and closes) it.
   */
  public static UnixServer start(Path socket, String mode, String name, Consumer<SocketChannel> serve)
      throws IOException {
    Files.createDirectories(socket.getParent());
    Files.deleteIfExists(socket);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(socket));
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString(mode));
    } catch (IOException e) {
      server.close();
      throw e;
    }
    UnixServer s = new UnixServer(socket, server);
    Thread.ofVirtual().name(name).start(() -> s.acceptLoop(serve));
    return s;
  }

  private void acceptLoop(Consumer<SocketChannel> serve) {
    while (server.isOpen()) {
      try {
        SocketChannel ch = server.accept();
        connections.execute(() -> serve.accept(ch));
      } catch (IOException e) {
        if (server.isOpen()) {
          LOG.log(Level.WARNING, "{0}: {1}", socket, e.getMessage());
        }
      }
    }
  }

  @Override
  public void close() {
    try {
      server.close();
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "closing {0}: {1}", socket, e.getMessage());
    }
    connections.shutdownNow();
  }
}
