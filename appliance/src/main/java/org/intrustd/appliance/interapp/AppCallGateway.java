package org.intrustd.appliance.interapp;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.WritableByteChannel;
import org.intrustd.appliance.access.AccessException;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.peers.PeerLinks;
import org.intrustd.client.ChannelStream;
import org.intrustd.client.ClientException;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.appliance.access.AppTokenApi;
import org.intrustd.appliance.apps.AppException;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.net.LocalHttp;
import org.intrustd.appliance.net.UnixServer;
import org.intrustd.appliance.permissions.Grants;
import org.intrustd.appliance.proxy.BodyFramer;
import org.intrustd.appliance.proxy.Problem;
import org.intrustd.appliance.proxy.RequestHead;
import org.intrustd.appliance.proxy.RequestHead.BodyFraming;
import org.intrustd.appliance.proxy.RequestHeadParser;
import org.intrustd.appliance.proxy.RequestRewriter;
import org.intrustd.core.access.Permission;

/**
 * How one app calls another: the daemon listens on {@code daemon.sock} in the caller's socket
 * directory ({@code /run/intrustd/daemon.sock} in its sandbox); the caller sends an ordinary
 * HTTP/1.1 request whose {@code Host} names the app it wants, e.g.
 * {@code curl --unix-socket /run/intrustd/daemon.sock http://notes/api}. The daemon checks the
 * owner's grant ({@code app:<target>}), starts the target if needed, and forwards the request
 * with the trusted header {@code X-Intrustd-Caller-App} (any the caller sent is dropped),
 * exactly one request per connection: the body is forwarded up to its end and no further, so
 * a second, smuggled request never reaches the target.
 *
 * <p>{@code Host: <app>.<appliance-id>} calls app {@code <app>} on a paired appliance
 * (docs/spec/peers.md), for an app granted {@code peer}: over the daemon's link to that
 * appliance, which checks what this one may open there and tells its app who called.
 */
public final class AppCallGateway implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.apps");
  public static final String CALLER_HEADER = "X-Intrustd-Caller-App";
  private static final int BUFFER = 64 * 1024;

  private final String caller;
  private final Grants grants;
  private final AppSupervisor apps;
  private final AppTokenApi tokens;
  private final AppDirectory directory;
  private final PeerLinks peers;
  private UnixServer server;

  private AppCallGateway(String caller, Grants grants, AppSupervisor apps, AppTokenApi tokens, AppDirectory directory,
      PeerLinks peers) {
    this.caller = caller;
    this.directory = directory;
    this.peers = peers;
    this.grants = grants;
    this.apps = apps;
    this.tokens = tokens;
  }

  /**
   * Listens on {@code socket} for calls from the app {@code caller}: to other apps, and with
   * {@code Host: intrustd} to the daemon's {@link AppTokenApi} and {@link AppDirectory}.
   */
  public static AppCallGateway start(String caller, Path socket, Grants grants, AppSupervisor apps, AppTokenApi tokens,
      AppDirectory directory, PeerLinks peers) {
    AppCallGateway gateway = new AppCallGateway(caller, grants, apps, tokens, directory, peers);
    try {
      // The directory (the app's own, mode 0700) is the gate; the app's uid must be able to connect.
      gateway.server = UnixServer.start(socket, "rw-rw-rw-", "app-calls-" + caller, gateway::serve);
    } catch (IOException e) {
      throw new AppException("cannot listen on " + socket + ": " + e.getMessage(), e);
    }
    return gateway;
  }

  private void serve(SocketChannel from) {
    try (from) {
      RequestHeadParser parser = new RequestHeadParser();
      ByteBuffer buf = ByteBuffer.allocate(BUFFER);
      RequestHead head = null;
      while (head == null) {
        if (from.read(buf) < 0) {
          return;
        }
        buf.flip();
        RequestHeadParser.Result r = parser.feed(buf);
        if (r instanceof RequestHeadParser.Result.Failed f) {
          refuse(from, f.status(), f.reason());
          return;
        }
        if (r instanceof RequestHeadParser.Result.Done d) {
          head = d.head();
        } else {
          buf.compact();
        }
      }
      String target = head.first("Host").map(h -> h.replaceFirst(":\\d+$", "").toLowerCase(Locale.ROOT)).orElse("");
      if (target.equals(Permission.DAEMON)) {
        askDaemon(from, head, buf);
        return;
      }
      int dot = target.indexOf('.');
      if (dot > 0) {
        callPeer(from, buf, head, target.substring(0, dot), target.substring(dot + 1));
        return;
      }
      if (!apps.isInstalled(target)) {
        refuse(from, 404, "no app named '" + target + "' (name it in the Host header)");
        return;
      }
      if (!grants.mayOpen(caller, target)) {
        LOG.log(Level.INFO, "app {0} may not open app {1}: refused", caller, target);
        refuse(from, 403, "app '" + caller + "' may not open app '" + target + "'; the owner can allow it with:"
            + " intrustd app grant " + caller + " app:" + target);
        return;
      }
      forward(from, buf, head, target);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "app call from {0} ended: {1}", caller, e.getMessage());
    }
  }

  private void askDaemon(SocketChannel from, RequestHead head, ByteBuffer rest) throws IOException {
    LocalHttp.respond(from, LOG, "app " + caller, () -> {
      LocalHttp.Request request = new LocalHttp.Request(head, LocalHttp.readBody(from, head, rest, AppTokenApi.MAX_BODY));
      return LocalHttp.ok(AppDirectory.serves(request.path()) ? directory.handle(caller, request) : tokens.handle(caller, request));
    });
  }

  private void forward(SocketChannel from, ByteBuffer pending, RequestHead head, String target) throws IOException {
    Path targetSocket;
    try {
      targetSocket = apps.acquire(target);
    } catch (AppException e) {
      refuse(from, 503, e.getMessage());
      return;
    }
    try (SocketChannel to = SocketChannel.open(UnixDomainSocketAddress.of(targetSocket))) {
      writeAll(to, ByteBuffer.wrap(RequestRewriter.rewrite(head, target, Map.of(CALLER_HEADER, caller))));
      boolean upgrade = head.framing() instanceof BodyFraming.Upgrade;
      Thread up = Thread.ofVirtual().start(() -> pumpRequest(from, to, pending, framer(head), upgrade, to::shutdownOutput,
          () -> { }));
      ByteBuffer down = ByteBuffer.allocate(BUFFER);
      while (to.read(down) >= 0) {
        down.flip();
        writeAll(from, down);
        down.clear();
      }
      up.interrupt();
    } finally {
      apps.release(target);
    }
  }

  /** A call to {@code app} on the appliance {@code applianceText}, over the daemon's link to it. */
  private void callPeer(SocketChannel from, ByteBuffer pending, RequestHead head, String app, String applianceText)
      throws IOException {
    Optional<ApplianceId> peer = ApplianceId.parse(applianceText);
    if (peer.isEmpty() || !AppManifest.APP_ID.matcher(app).matches()) {
      refuse(from, 400, "'" + app + "." + applianceText + "' is not <app>.<appliance-id>");
      return;
    }
    Optional<String> refusal = refusal(app, peer.get());
    if (refusal.isPresent()) {
      LOG.log(Level.INFO, "app {0} calling {1} on {2}: refused", caller, app, peer.get());
      refuse(from, 403, refusal.get());
      return;
    }
    ChannelStream stream;
    try {
      stream = peers.openAny(peer.get(), app);
    } catch (AccessException e) {
      refuse(from, e.status(), e.getMessage());
      return;
    } catch (ClientException e) {
      LOG.log(Level.INFO, "app {0} calling {1} on {2}: {3}", caller, app, peer.get(), e.getMessage());
      refuse(from, 504, "appliance " + peer.get() + " cannot be reached: " + e.getMessage());
      return;
    }
    try (stream) {
      // The peer's daemon drops every X-Intrustd-* field and sets its own (it names this appliance).
      WritableByteChannel to = Channels.newChannel(stream.out());
      writeAll(to, ByteBuffer.wrap(RequestRewriter.rewrite(head, app, Map.of())));
      Thread up = Thread.ofVirtual().start(() -> pumpRequest(from, to, pending, framer(head),
          head.framing() instanceof BodyFraming.Upgrade, stream.out()::close, stream.out()::close));
      InputStream in = stream.in();
      byte[] down = new byte[BUFFER];
      try {
        for (int n; (n = in.read(down)) > 0; ) {
          writeAll(from, ByteBuffer.wrap(down, 0, n));
        }
      } catch (IOException e) {
        LOG.log(Level.INFO, "app {0} calling {1} on {2}: {3}", caller, app, peer.get(), e.getMessage());
      }
      up.interrupt();
    }
  }

  /**
   * Why the caller may not call {@code app} on {@code peer}, if it may not (peers.md): a paired
   * appliance needs the {@code peer} grant, any other the {@code strangers} grant, and then only
   * the caller's namesake there, which admits strangers or not as its owner decides.
   */
  private Optional<String> refusal(String app, ApplianceId peer) {
    boolean namesake = app.equals(caller) && grants.meetsStrangers(caller);
    if (peers.isPaired(peer)) {
      return grants.mayCallPeers(caller) || namesake ? Optional.empty()
          : Optional.of("app '" + caller + "' may not call apps on paired appliances; the owner can allow it with:"
              + " intrustd app grant " + caller + " " + Grants.PEER);
    }
    if (namesake) {
      return Optional.empty();
    }
    return Optional.of("appliance " + peer + " is not paired with this one (intrustd peer list)" + (app.equals(caller)
        ? "; the owner can let app '" + caller + "' meet appliances it is not paired with: intrustd app grant " + caller
            + " " + Grants.STRANGERS
        : "; an app may call only its namesake on appliances that are not paired"));
  }

  private static BodyFramer framer(RequestHead head) {
    return switch (head.framing()) {
      case BodyFraming.Length l -> BodyFramer.forLength(l.bytes());
      case BodyFraming.Chunked c -> BodyFramer.chunked();
      default -> BodyFramer.forLength(0);
    };
  }

  /** What ends a request body on its way out: a socket's half-close, a channel's END. */
  @FunctionalInterface
  private interface EndOfBody {
    void end() throws IOException;
  }

  /**
   * Caller → target: the body up to its end (all bytes, once upgraded), never a byte more.
   * {@code cut} runs when the caller stops early or sends a malformed body, {@code done} when the
   * body is complete (a socket stays open for the response; a channel needs its END).
   */
  private static void pumpRequest(SocketChannel from, WritableByteChannel to, ByteBuffer buf, BodyFramer body,
      boolean upgrade, EndOfBody cut, EndOfBody done) {
    try {
      while (true) {
        if (upgrade) {
          writeAll(to, buf);
        } else {
          int n = body.scan(buf);
          if (body.isFailed()) {
            cut.end();
            return;
          }
          writeAll(to, buf.slice(buf.position(), n));
          buf.position(buf.position() + n);
          if (body.isDone()) {
            done.end();
            return;
          }
        }
        buf.clear();
        if (from.read(buf) < 0) {
          cut.end();
          return;
        }
        buf.flip();
      }
    } catch (IOException e) {
      // either side went away; the response pump sees it too
    }
  }

  private static void writeAll(WritableByteChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }

  private static void refuse(SocketChannel ch, int status, String detail) throws IOException {
    writeAll(ch, ByteBuffer.wrap(new Problem(status, detail).toResponse()));
  }

  @Override
  public void close() {
    server.close();
  }
}
