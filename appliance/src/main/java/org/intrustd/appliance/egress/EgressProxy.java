package org.intrustd.appliance.egress;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * One app's way out: an HTTP CONNECT proxy (RFC 9110 §9.3.6) on a Unix socket in the app's
 * socket directory. The app has no network but {@code lo}; inside its sandbox {@code socat}
 * carries {@code 127.0.0.1:3128} to this socket, and {@code HTTPS_PROXY} points there.
 *
 * <p>Each connection sends one {@code CONNECT host:port} request. The proxy asks the policy
 * (the owner's current grant) whether the app may reach that host and port, resolves names
 * itself (the app has no DNS), refuses addresses that are not public unless a rule names them
 * exactly ({@link InternetGrant}), connects to an address it checked, answers {@code 200} and
 * copies bytes both ways. Everything else is answered with a 4xx or 5xx and a one-line reason,
 * and closes only that connection. Every tunnel opened, refused and closed is logged at INFO
 * on {@code intrustd.egress}, with the app, the host and port, and the bytes each way: the
 * owner's record of what the app reached.
 *
 * <p>Design note, revocation: {@link #recheck()} closes the tunnels the policy no longer
 * allows. A request that is between its check and its {@code 200} when the policy changes is
 * caught by a second check made after its tunnel is registered: either {@code recheck()} sees
 * the tunnel, or the second check sees the new policy.
 *
 * <p>Threads: one virtual thread accepts, each connection has one (two while it is a tunnel);
 * at most {@value #MAX_CONNECTIONS} connections at once, more are answered 503. Thread-safe.
 */
public final class EgressProxy implements AutoCloseable {
  static final System.Logger LOG = System.getLogger("intrustd.egress");
  static final int MAX_CONNECTIONS = 256;

  /** Name resolution, replaceable in tests. */
  @FunctionalInterface
  interface Resolver {
    Resolver SYSTEM = name -> List.of(InetAddress.getAllByName(name));

    List<InetAddress> resolve(String name) throws IOException;
  }

  /** Limits and the resolver; {@link #DEFAULTS} in production. */
  record Options(Duration headTimeout, Duration connectTimeout, int maxConnections, Resolver resolver) {
    static final Options DEFAULTS = new Options(Duration.ofSeconds(10), Duration.ofSeconds(10), MAX_CONNECTIONS, Resolver.SYSTEM);
  }

  /** Why a request is answered with an error rather than a tunnel. */
  private static final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;

    Refusal(int status, String reason) {
      super(reason, null, false, false);
      this.status = status;
    }
  }

  private static final int READING = 0;
  private static final int HEAD_READ = 1;
  private static final int TIMED_OUT = 2;

  private final String appId;
  private final Path socket;
  private final Supplier<Optional<InternetGrant>> policy;
  private final Options options;
  private final ServerSocketChannel server;
  private final Semaphore slots;
  private final ExecutorService threads;
  private final ScheduledExecutorService timer;
  private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
  private final Set<Tunnel> tunnels = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  private EgressProxy(String appId, Path socket, Supplier<Optional<InternetGrant>> policy, Options options,
      ServerSocketChannel server) {
    this.appId = appId;
    this.socket = socket;
    this.policy = policy;
    this.options = options;
    this.server = server;
    this.slots = new Semaphore(options.maxConnections());
    this.threads = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("egress-" + appId + "-", 0).factory());
    this.timer = Executors.newSingleThreadScheduledExecutor(Thread.ofVirtual().name("egress-" + appId + "-timer").factory());
  }

  /**
   * Listens on {@code socket} (a Unix socket path; a stale file there is deleted) for the app
   * {@code appId}. {@code policy.get()} is asked on every CONNECT and on {@link #recheck()}:
   * empty means the app has no internet permission.
   *
   * <p>The socket is made {@code rw-rw-rw-} so that the app's own uid can connect; its
   * directory (the app's, mode 0700) is what keeps other users out. Start the proxy before the
   * app runs: the directory is the app's to write, and a running app could swap the fresh
   * socket for a link between the bind and the chmod.
   */
  public static EgressProxy start(String appId, Path socket, Supplier<Optional<InternetGrant>> policy) throws IOException {
    return start(appId, socket, policy, Options.DEFAULTS);
  }

  static EgressProxy start(String appId, Path socket, Supplier<Optional<InternetGrant>> policy, Options options)
      throws IOException {
    Objects.requireNonNull(appId, "appId");
    Objects.requireNonNull(policy, "policy");
    Files.deleteIfExists(socket);
    ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
    try {
      server.bind(UnixDomainSocketAddress.of(socket));
      if (!Files.readAttributes(socket, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
        throw new IOException(socket + " was replaced while the egress proxy bound it");
      }
      Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
    } catch (IOException | RuntimeException e) {
      server.close();
      throw e;
    }
    EgressProxy proxy = new EgressProxy(appId, socket, policy, options, server);
    proxy.threads.execute(proxy::acceptLoop);
    return proxy;
  }

  /** Re-reads the policy and closes every open tunnel it no longer allows (all of them, when the grant is gone). */
  public void recheck() {
    Optional<InternetGrant> grant = currentPolicy();
    for (Tunnel t : tunnels) {
      if (!permits(grant, t)) {
        t.close(grant.isEmpty() ? "internet permission revoked" : "no longer allowed by the internet permission");
      }
    }
  }

  /** How many tunnels are open now. */
  public int openTunnels() {
    return tunnels.size();
  }

  /** Stops listening, closes every tunnel and connection, and removes the socket. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      server.close();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "closing the egress socket: {0}", e.getMessage());
    }
    tunnels.forEach(t -> t.close("proxy stopped"));
    connections.forEach(EgressProxy::closeQuietly);
    timer.shutdownNow();
    threads.shutdown();
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "removing {0}: {1}", socket, e.getMessage());
    }
  }

  private void acceptLoop() {
    while (!closed) {
      SocketChannel ch;
      try {
        ch = server.accept();
      } catch (ClosedChannelException e) {
        return;
      } catch (IOException | RuntimeException e) {
        if (!closed) {
          LOG.log(Level.WARNING, "app ''{0}'': egress socket: {1}", appId, e.getMessage());
          pause();
        }
        continue;
      }
      dispatch(ch);
    }
  }

  private void dispatch(SocketChannel ch) {
    connections.add(ch);
    try {
      boolean admitted = slots.tryAcquire();
      threads.execute(() -> {
        try {
          if (admitted) {
            serve(ch);
          } else {
            refuse(ch, "a request", new Refusal(503, "app '" + appId + "' has " + options.maxConnections()
                + " connections through the proxy already"));
          }
        } finally {
          if (admitted) {
            slots.release();
          }
          connections.remove(ch);
          closeQuietly(ch);
        }
      });
    } catch (RuntimeException e) { // the executor is shutting down
      connections.remove(ch);
      closeQuietly(ch);
    }
  }

  /** One connection: its request head, then a tunnel or a refusal. Closing is left to {@link #dispatch}. */
  private void serve(SocketChannel app) {
    ByteBuffer buf = ByteBuffer.allocate(Tunnel.BUFFER);
    String what = "a request";
    try {
      ConnectParser.Result head = readHead(app, buf);
      switch (head) {
        case ConnectParser.Result.NeedMore n -> throw new IllegalStateException("the head reader stopped early");
        case ConnectParser.Result.Refused r -> throw new Refusal(r.status(), r.reason());
        case ConnectParser.Result.Connect c -> {
          what = "CONNECT " + c.target();
          tunnel(app, c.target(), buf);
        }
      }
    } catch (Refusal r) {
      refuse(app, what, r);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "app ''{0}'': {1}: {2}", appId, what, e.getMessage());
    } catch (RuntimeException e) {
      LOG.log(closed ? Level.DEBUG : Level.WARNING, "app '" + appId + "': " + what + " failed", e);
    }
  }

  /**
   * Reads the request head into {@code buf}, leaving any bytes after it there. A timer shuts the
   * input down when the head takes longer than the head timeout; whichever of the two moves
   * {@code phase} first decides the outcome.
   */
  private ConnectParser.Result readHead(SocketChannel app, ByteBuffer buf) throws IOException {
    ConnectParser parser = new ConnectParser();
    AtomicInteger phase = new AtomicInteger(READING);
    ScheduledFuture<?> timeout = timer.schedule(() -> {
      if (phase.compareAndSet(READING, TIMED_OUT)) {
        shutdownInputQuietly(app);
      }
    }, options.headTimeout().toMillis(), TimeUnit.MILLISECONDS);
    ConnectParser.Result result = new ConnectParser.Result.NeedMore();
    try {
      while (result instanceof ConnectParser.Result.NeedMore) {
        buf.clear();
        if (app.read(buf) < 0) {
          result = parser.endOfInput();
        } else {
          buf.flip();
          result = parser.feed(buf);
        }
      }
    } catch (IOException e) {
      if (phase.get() != TIMED_OUT) {
        throw e;
      }
    } finally {
      timeout.cancel(false);
    }
    if (!phase.compareAndSet(READING, HEAD_READ)) {
      return new ConnectParser.Result.Refused(408, "the request head did not arrive within " + seconds(options.headTimeout()));
    }
    return result;
  }

  private void tunnel(SocketChannel app, Target target, ByteBuffer early) throws Refusal, IOException {
    InternetGrant grant = currentPolicy().orElseThrow(() -> noPermission());
    if (!grant.admits(target)) {
      throw new Refusal(403, "app '" + appId + "' may not reach " + target + ": its internet permission allows "
          + grant);
    }
    List<InetAddress> resolved = resolve(target);
    List<InetAddress> allowed = resolved.stream().filter(a -> grant.admits(target, a)).toList();
    if (allowed.isEmpty()) {
      throw new Refusal(403, notPublic(target, resolved));
    }
    Socket remote = connect(target, allowed);
    Tunnel t = new Tunnel(appId, target, remote.getInetAddress(), app, remote, tunnels::remove);
    tunnels.add(t);
    if (closed || !permits(currentPolicy(), t)) {
      t.abandon();
      throw closed ? new Refusal(503, "the egress proxy is stopping") : noPermission();
    }
    try {
      t.open(early);
      Future<?> fromRemote = threads.submit(t::pumpFromRemote);
      t.pumpFromApp();
      fromRemote.get();
    } catch (ExecutionException e) {
      t.close("remote side: " + e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      t.close("interrupted");
    } finally {
      t.close(closed ? "proxy stopped" : "ended");
    }
  }

  private Refusal noPermission() {
    return new Refusal(403, "app '" + appId + "' has no internet permission");
  }

  private List<InetAddress> resolve(Target target) throws Refusal {
    if (target.host() instanceof HostRule.Host.Address a) {
      return List.of(a.address());
    }
    String name = target.host().toString();
    Future<List<InetAddress>> lookup = threads.submit(() -> options.resolver().resolve(name));
    try {
      List<InetAddress> found = lookup.get(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
      if (found.isEmpty()) {
        throw new Refusal(502, "'" + name + "' has no addresses");
      }
      return found;
    } catch (TimeoutException e) {
      lookup.cancel(true);
      throw new Refusal(504, "resolving '" + name + "' took longer than " + seconds(options.connectTimeout()));
    } catch (ExecutionException e) {
      throw new Refusal(502, e.getCause() instanceof UnknownHostException
          ? "'" + name + "' does not resolve" : "resolving '" + name + "' failed: " + e.getCause().getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Refusal(503, "the egress proxy is stopping");
    }
  }

  /** Connects to the first address that answers, sharing the connect timeout among them. */
  private Socket connect(Target target, List<InetAddress> addresses) throws Refusal {
    int each = (int) Math.max(1_000, options.connectTimeout().toMillis() / addresses.size());
    boolean allTimedOut = true;
    String last = "";
    for (InetAddress a : addresses) {
      Socket s = new Socket();
      try {
        s.setTcpNoDelay(true);
        s.setKeepAlive(true);
        s.connect(new InetSocketAddress(a, target.port()), each);
        return s;
      } catch (SocketTimeoutException e) {
        closeQuietly(s);
        last = HostSyntax.address(a) + ": no answer within " + each + " ms";
      } catch (IOException e) {
        closeQuietly(s);
        allTimedOut = false;
        last = HostSyntax.address(a) + ": " + e.getMessage();
      }
    }
    if (allTimedOut) {
      throw new Refusal(504, "connecting to " + target + " timed out (" + last + ")");
    }
    throw new Refusal(502, "cannot connect to " + target + " (" + last + ")");
  }

  private static String notPublic(Target target, List<InetAddress> resolved) {
    String example = HostSyntax.address(resolved.get(0)) + ":" + target.port();
    if (target.host() instanceof HostRule.Host.Address a) {
      return a + " is a " + Addresses.special(a.address()).orElse("special") + " address: the app may reach it only if"
          + " its internet permission names it, as '" + example + "'";
    }
    String list = resolved.stream().map(x -> HostSyntax.address(x) + " (" + Addresses.special(x).orElse("public") + ")")
        .collect(Collectors.joining(", "));
    return "'" + target.host() + "' resolves only to addresses the app may not reach by name: " + list
        + "; the owner may allow one by naming it in the internet permission, as '" + example + "'";
  }

  private boolean permits(Optional<InternetGrant> grant, Tunnel t) {
    return grant.isPresent() && grant.get().admits(t.target, t.address);
  }

  /** The owner's grant now; a policy that fails counts as no grant. */
  private Optional<InternetGrant> currentPolicy() {
    try {
      return Objects.requireNonNull(policy.get(), "policy.get() returned null");
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "app '" + appId + "': the internet policy failed; refusing", e);
      return Optional.empty();
    }
  }

  private void refuse(SocketChannel app, String what, Refusal r) {
    LOG.log(Level.INFO, () -> "app '" + appId + "': refused " + what + ": " + r.status + " " + r.getMessage());
    try {
      ByteBuffer reply = ByteBuffer.wrap(Reply.refusal(r.status, r.getMessage()));
      while (reply.hasRemaining()) {
        app.write(reply);
      }
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "app ''{0}'': answering a refusal: {1}", appId, e.getMessage());
    }
  }

  private static void shutdownInputQuietly(SocketChannel ch) {
    try {
      ch.shutdownInput();
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "timing out a request: {0}", e.getMessage());
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      LOG.log(Level.DEBUG, "closing: {0}", e.getMessage());
    }
  }

  private static String seconds(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() / 1000.0 + " s";
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
