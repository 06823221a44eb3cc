package org.intrustd.flock.load;

import java.time.Duration;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.thread.VirtualThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

/**
 * The baseline of {@link FlockLoadBench}: a bare Jetty WebSocket server set up as the flock sets up
 * its own (Jetty 12, virtual threads, the same message limits and outgoing queue) that sends every
 * text message straight back. Run as its own JVM, as the flock is:
 * {@code java -cp 'bench/target/lib/*' org.intrustd.flock.load.EchoServer HOST PORT}; prints
 * {@code ECHO_READY PORT} once serving.
 */
public final class EchoServer {
  private EchoServer() {}

  /** Public for Jetty's listener lookup, as the flock's endpoints. */
  public static final class Echo implements Session.Listener.AutoDemanding {
    private Session session;

    @Override
    public void onWebSocketOpen(Session opened) {
      session = opened;
    }

    @Override
    public void onWebSocketText(String text) {
      session.sendText(text, Callback.NOOP);
    }
  }

  public static void main(String[] args) throws Exception {
    String host = args.length > 0 ? args[0] : "127.0.0.1";
    int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
    VirtualThreadPool threads = new VirtualThreadPool();
    threads.setName("echo");
    Server server = new Server(threads);
    ServerConnector connector = new ServerConnector(server);
    connector.setHost(host);
    connector.setPort(port);
    server.addConnector(connector);
    long max = 65_536 + 16 * 1024;
    server.setHandler(WebSocketUpgradeHandler.from(server, container -> {
      container.setMaxTextMessageSize(max);
      container.setMaxBinaryMessageSize(max);
      container.setMaxFrameSize(max);
      container.setIdleTimeout(Duration.ofMinutes(10));
      container.setMaxOutgoingFrames(1024);
      container.addMapping("/echo", (request, response, callback) -> new Echo());
    }));
    server.start();
    System.out.println("ECHO_READY " + connector.getLocalPort());
    System.out.flush();
    server.join();
  }
}
