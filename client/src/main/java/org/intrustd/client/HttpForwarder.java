package org.intrustd.client;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.intrustd.link.frame.StreamFrame;

/**
 * {@code intrustd forward}: an app of the appliance on a local TCP port (like {@code ssh -L}),
 * for any HTTP/1.1 client on this machine (curl, a desktop client, a browser). Each request
 * goes to the app on a channel of its own over the end-to-end link (docs/spec/channels.md):
 * bodies stream both ways under the channel's flow control, so a 1 GiB download holds a window
 * of memory, not the body; keep-alive connections carry one request after another, and
 * WebSocket upgrades are relayed as they are. When the link fails, the next request makes a
 * new one through {@code connect}.
 *
 * <p>With a {@link Tunnel}, the port carries a protocol that is not HTTP (IMAP for a desktop
 * mail client, say): each connection asks the app to switch to it ({@code Connection: Upgrade})
 * and, once it has ({@code 101}), carries the client's bytes both ways as they are.
 */
public final class HttpForwarder implements AutoCloseable {
  private static final int BUFFER = StreamFrame.MAX_PAYLOAD;
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

  private final String app;
  private final String label;
  private final Optional<Tunnel> tunnel;
  private final Supplier<ApplianceClient> connect;
  private final Consumer<String> log;
  private final ServerSocket server;
  private ApplianceClient client;
  private volatile boolean closed;

  /** A protocol the app speaks after an upgrade at {@code path} (docs/spec/channels.md, "Upgrades"). */
  public record Tunnel(String protocol, String path) {
    public Tunnel {
      if (!protocol.matches("[A-Za-z0-9][A-Za-z0-9.+_-]{0,31}") || !path.matches("/[\\x21-\\x7e]{0,1000}")) {
        throw new IllegalArgumentException("a protocol is a token and a path starts with /, both printable");
      }
    }
  }

  private HttpForwarder(String app, Optional<Tunnel> tunnel, Supplier<ApplianceClient> connect, Consumer<String> log,
      ServerSocket server) {
    this.app = app;
    this.tunnel = tunnel;
    this.label = "http/" + app;
    this.connect = connect;
    this.log = log;
    this.server = server;
  }

  /**
   * Listens on {@code 127.0.0.1:port} (0: any free port) and forwards to {@code app}. The
   * link comes from {@code connect}, made now (so a wrong appliance fails at once) and again
   * whenever the link has failed.
   */
  public static HttpForwarder start(String app, int port, Supplier<ApplianceClient> connect, Consumer<String> log)
      throws IOException {
    return start(app, port, Optional.empty(), connect, log);
  }

  /** {@link #start}, each connection a {@code tunnel} when one is given. */
  public static HttpForwarder start(String app, int port, Optional<Tunnel> tunnel, Supplier<ApplianceClient> connect,
      Consumer<String> log) throws IOException {
    ServerSocket server = new ServerSocket();
    server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 128);
    HttpForwarder f = new HttpForwarder(app, tunnel, connect, log, server);
    try {
      f.link();
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    Thread.ofPlatform().name("forward-accept").daemon().start(f::accept);
    return f;
  }

  /** The local port. */
  public int port() {
    return server.getLocalPort();
  }

  /** The link, made anew if it has failed (one caller at a time makes it). */
  private synchronized ApplianceClient link() {
    if (client == null || !client.isUp()) {
      if (client != null) {
        log.accept("the link to the appliance failed: connecting again");
        client.close();
        client = null;
      }
      client = connect.get();
    }
    return client;
  }

  /** A channel to the app; when one will not open, the link is taken for dead and made anew, once. */
  private ChannelStream openChannel() {
    ApplianceClient current = link();
    try {
      return current.open(label);
    } catch (ClientException e) {
      synchronized (this) {
        if (client == current) {
          log.accept("no channel opens on the link (" + e.getMessage() + "): connecting again");
          client.close();
          client = null;
        }
      }
      return link().open(label);
    }
  }

  private void accept() {
    while (!closed) {
      try {
        Socket s = server.accept();
        Thread.ofVirtual().name("forward-conn").start(() -> {
          if (tunnel.isPresent()) {
            tunnel(s, tunnel.get());
          } else {
            serve(s);
          }
        });
      } catch (IOException e) {
        if (!closed) {
          log.accept("cannot accept a connection: " + e.getMessage());
        }
      }
    }
  }

  /** One client connection: its requests, one after another. */
  private void serve(Socket socket) {
    try (socket) {
      socket.setTcpNoDelay(true);
      InputStream in = new BufferedInputStream(socket.getInputStream(), BUFFER);
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), BUFFER);
      while (!closed) {
        Optional<HttpStream.Head> head;
        try {
          head = HttpStream.readHead(in);
        } catch (ClientException e) {
          refuse(out, 400, "Bad Request", "a malformed request: " + e.getMessage());
          return;
        }
        if (head.isEmpty() || !exchange(socket, head.get(), in, out)) {
          return;
        }
      }
    } catch (IOException e) {
      // the local client went away
    }
  }

  /**
   * One connection as a tunnel: the app is asked to switch to the protocol on a channel of its
   * own, and then the bytes go both ways until either side ends. A refusal is logged (the client
   * speaks a protocol that has no room for an HTTP answer) and the connection closed.
   */
  private void tunnel(Socket socket, Tunnel t) {
    try (socket; ChannelStream stream = openChannel()) {
      socket.setTcpNoDelay(true);
      OutputStream toApp = stream.out();
      toApp.write(("GET " + t.path() + " HTTP/1.1\r\nHost: " + app + "\r\nConnection: Upgrade\r\nUpgrade: " + t.protocol()
          + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      toApp.flush();
      InputStream fromApp = stream.in();
      Optional<HttpStream.Head> response = HttpStream.readHead(fromApp);
      if (response.isEmpty() || HttpStream.status(response.get()) != 101) {
        String detail = response.isEmpty() ? "no answer" : response.get().startLine() + ": "
            + new String(fromApp.readNBytes(4096), StandardCharsets.UTF_8);
        log.accept("the app did not switch to " + t.protocol() + ": " + detail);
        return;
      }
      InputStream fromClient = socket.getInputStream();
      Thread up = Thread.ofVirtual().start(() -> {
        try {
          byte[] buf = new byte[BUFFER];
          for (int n; (n = fromClient.read(buf)) > 0; ) {
            toApp.write(buf, 0, n);
            toApp.flush();
          }
          toApp.close(); // END: the client is done sending
        } catch (IOException e) {
          stream.reset("the client went away");
        }
      });
      OutputStream toClient = socket.getOutputStream();
      byte[] buf = new byte[BUFFER];
      for (int n; (n = fromApp.read(buf)) > 0; ) {
        toClient.write(buf, 0, n);
      }
      up.interrupt();
    } catch (IOException | ClientException e) {
      log.accept("a " + t.protocol() + " connection ended: " + e.getMessage());
    }
  }

  /** Relays one request and its response; whether the connection can carry another. */
  private boolean exchange(Socket socket, HttpStream.Head request, InputStream in, OutputStream out) throws IOException {
    String[] line = request.startLine().split(" ");
    long length;
    try {
      if (line.length != 3 || !line[2].matches("HTTP/1\\.[01]")) {
        throw new ClientException("not an HTTP/1.1 request line: " + HttpStream.abbreviate(request.startLine()));
      }
      length = request.bodyLength(0);
    } catch (ClientException e) {
      refuse(out, 400, "Bad Request", e.getMessage());
      return false;
    }
    boolean upgrade = request.lists("Connection", "upgrade") && !request.values("Upgrade").isEmpty();
    ChannelStream stream;
    try {
      stream = openChannel();
    } catch (ClientException e) {
      refuse(out, 502, "Bad Gateway", "cannot reach the app on the appliance: " + e.getMessage());
      return false;
    }
    try (stream) {
      if (request.lists("Expect", "100-continue")) {
        // Answered here: the app would answer the same, and the client need not wait a round trip.
        out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
      }
      OutputStream toApp = stream.out();
      toApp.write(request.bytes("Expect"));
      // The response may start before the body is sent (a refusal, say): read it meanwhile.
      // After an upgrade the app's end closes the connection: the client's side waits on the socket.
      ResponseRelay response = new ResponseRelay(stream.in(), out, line[0].equalsIgnoreCase("HEAD"),
          upgrade ? () -> closeQuietly(socket) : () -> { });
      Thread reader = Thread.ofVirtual().name("forward-response").start(response);
      boolean requestDone = false;
      try {
        byte[] buf = new byte[BUFFER];
        if (upgrade) {
          in.transferTo(toApp); // a WebSocket, say: both ways until the client closes
        } else if (length == -1) {
          HttpStream.copyChunked(in, toApp, true, buf);
        } else {
          HttpStream.copyExactly(in, toApp, length, buf);
        }
        toApp.close();
        requestDone = true;
      } catch (IOException | ClientException e) {
        // The client went away or sent a malformed body: the app must not wait for the rest.
        stream.reset("the client's request failed: " + e.getMessage());
      }
      try {
        reader.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      if (response.failure != null && !response.started()) {
        refuse(out, 502, "Bad Gateway", response.failure);
        return false;
      }
      return requestDone && response.failure == null && response.reusable && !upgrade && !request.lists("Connection", "close");
    }
  }

  /** Copies the app's response to the client, and tells whether the connection can carry another request. */
  private static final class ResponseRelay implements Runnable {
    private final InputStream fromApp;
    private final OutputStream out;
    private final boolean head;
    private final Runnable done;
    private volatile boolean started;
    volatile boolean reusable; // as framed; a body that then fails leaves a failure too
    volatile String failure;

    ResponseRelay(InputStream fromApp, OutputStream out, boolean head, Runnable done) {
      this.fromApp = fromApp;
      this.out = out;
      this.head = head;
      this.done = done;
    }

    boolean started() {
      return started;
    }

    @Override
    public void run() {
      try {
        Optional<HttpStream.Head> response = HttpStream.readHead(fromApp);
        if (response.isEmpty()) {
          failure = "the appliance ended the exchange with no response";
          return;
        }
        int status = HttpStream.status(response.get());
        long length = response.get().bodyLength(-2);
        boolean bodiless = head || status / 100 == 1 || status == 204 || status == 304;
        // Connection and what it names are for the app's hop (the daemon asks the app to close
        // after each exchange): on the client's hop, keep-alive depends on the body's framing alone.
        boolean framed = bodiless || length >= -1;
        reusable = status != 101 && framed && response.get().startLine().startsWith("HTTP/1.1");
        List<String> hopByHop = new ArrayList<>(List.of("Connection", "Keep-Alive", "Proxy-Connection"));
        response.get().values("Connection").forEach(v -> hopByHop.addAll(List.of(v.split("\\s*,\\s*"))));
        started = true;
        out.write(status == 101 ? response.get().bytes() : response.get().bytes(hopByHop,
            reusable ? List.of() : List.of(new HttpStream.Head.Field("Connection", "close"))));
        byte[] buf = new byte[BUFFER];
        for (int n; (n = fromApp.read(buf)) > 0; ) { // the appliance ends the channel with the response
          out.write(buf, 0, n);
          if (fromApp.available() == 0) {
            out.flush(); // a stream of events, say, goes out as it comes
          }
        }
        out.flush();
      } catch (IOException | ClientException e) {
        failure = "the app's response failed: " + e.getMessage();
      } finally {
        done.run();
      }
    }
  }

  private static void closeQuietly(Socket socket) {
    try {
      socket.close();
    } catch (IOException e) {
      // closed anyway
    }
  }

  /** A problem answer of the forwarder's own, and the connection ends. */
  private static void refuse(OutputStream out, int status, String reason, String detail) {
    byte[] bytes = JSON.createObjectNode()
        .put("type", "about:blank").put("title", reason).put("status", status).put("detail", detail)
        .toString().getBytes(StandardCharsets.UTF_8);
    try {
      out.write(("HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: application/problem+json\r\nContent-Length: "
          + bytes.length + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(bytes);
      out.flush();
    } catch (IOException e) {
      // the client went away
    }
  }

  @Override
  public void close() {
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      // closing anyway
    }
    synchronized (this) {
      if (client != null) {
        client.close();
      }
    }
  }
}
