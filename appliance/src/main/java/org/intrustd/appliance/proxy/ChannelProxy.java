package org.intrustd.appliance.proxy;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.intrustd.appliance.access.AccessLog;
import org.intrustd.appliance.access.LinkAccess;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.core.access.Permission;
import org.intrustd.core.access.TrustedHeaders;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.link.Channel;
import org.intrustd.link.Link;

/**
 * Accepts the data channels a client opens and runs one {@link Exchange} per channel
 * (docs/spec/channels.md): a channel labelled {@code http/<app-id>} with protocol
 * {@code intrustd/1} carries one HTTP/1.1 exchange with that app, if {@link LinkAccess} admits
 * the caller (else the daemon answers 403); {@code intrustd/session} carries one with the
 * daemon's session API (docs/spec/access.md). Every exchange ends in the access log.
 * Thread-safe.
 */
public final class ChannelProxy implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.proxy");
  public static final String PROTOCOL = "intrustd/1";
  public static final String SESSION_LABEL = "intrustd/session";
  public static final String ADMIN_LABEL = "intrustd/admin";
  private static final Pattern LABEL = Pattern.compile("http/([a-z0-9][a-z0-9-]{0,62})");

  private final AppSupervisor apps;
  private final ApplianceId applianceId;
  private final LinkAccess access;
  private final AccessLog log;
  private final Path sessionSocket;
  private final Path controlSocket;
  private final ExecutorService exchanges = Executors.newThreadPerTaskExecutor(
      Thread.ofVirtual().name("exchange-", 0).factory());

  /**
   * {@code sessionSocket} serves {@code intrustd/session}; {@code controlSocket} (the owner's
   * control API) serves {@code intrustd/admin} to callers who administer the appliance.
   */
  public ChannelProxy(AppSupervisor apps, ApplianceId applianceId, LinkAccess access, AccessLog log, Path sessionSocket,
      Path controlSocket) {
    this.apps = apps;
    this.applianceId = applianceId;
    this.access = access;
    this.log = log;
    this.sessionSocket = sessionSocket;
    this.controlSocket = controlSocket;
  }

  /** Takes over a channel the peer opened on {@code link}; call from the link's onChannel. */
  public void accept(Link link, Channel channel) {
    String label = channel.label();
    String protocol = channel.protocol();
    Matcher m = LABEL.matcher(label);
    boolean daemon = label.equals(SESSION_LABEL) || label.equals(ADMIN_LABEL);
    if (!PROTOCOL.equals(protocol) || !(m.matches() || daemon)) {
      LOG.log(Level.INFO, "[{0}] refused channel labelled ''{1}'' (protocol ''{2}'')", link.id(),
          printable(label), printable(protocol));
      Exchange.refuse(channel, "unknown channel: label must be http/<app-id>, " + SESSION_LABEL + " or " + ADMIN_LABEL
          + ", and protocol " + PROTOCOL);
      return;
    }
    Exchange exchange;
    if (m.matches()) {
      exchange = new Exchange(link.id(), Upstream.app(apps, m.group(1)), channel, new AppGate(link.id(), m.group(1)));
    } else if (label.equals(SESSION_LABEL)) {
      exchange = new Exchange(link.id(), Upstream.fixed(Permission.DAEMON, sessionSocket), channel,
          new SessionGate(link.id()));
    } else {
      exchange = new Exchange(link.id(), Upstream.fixed(Permission.DAEMON, controlSocket), channel,
          new AdminGate(link.id()));
    }
    channel.setHandler(exchange);
    try {
      exchanges.execute(exchange::run);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      channel.close(); // shutting down
    }
  }

  /** An app's channel: {@link LinkAccess} admits the caller, and the channel is revocable while open. */
  private final class AppGate implements Exchange.Gate {
    private final Instant at = Instant.now();
    private final String link;
    private final String app;
    private volatile LinkAccess.Decision decision;
    private volatile Runnable forget = () -> { };

    AppGate(String link, String app) {
      this.link = link;
      this.app = app;
    }

    @Override
    public Verdict enter(Exchange exchange) {
      LinkAccess.Decision d = access.admit(link, app);
      decision = d;
      return switch (d) {
        case LinkAccess.Decision.Admitted a -> {
          forget = access.opened(link, app, exchange);
          yield new Verdict.Enter(a.headers());
        }
        case LinkAccess.Decision.Refused r -> new Verdict.Refuse(new Problem(r.status(), r.detail()));
      };
    }

    @Override
    public void left(Exchange.Outcome o) {
      forget.run();
      LinkAccess.Decision d = decision;
      log.record(entry(at, link, d == null ? Optional.empty() : d.persona(), d == null ? List.of() : d.tokens(), app, o,
          d instanceof LinkAccess.Decision.Admitted a ? a.grant() : ""));
    }
  }

  /** The session API's channel: open to every link; the API itself decides. */
  private final class SessionGate implements Exchange.Gate {
    private final Instant at = Instant.now();
    private final String link;

    SessionGate(String link) {
      this.link = link;
    }

    @Override
    public Verdict enter(Exchange exchange) {
      return new Verdict.Enter(Map.of(TrustedHeaders.APPLIANCE, applianceId.toString(), TrustedHeaders.LINK, link));
    }

    @Override
    public void left(Exchange.Outcome o) {
      log.record(entry(at, link, Optional.empty(), List.of(), Permission.DAEMON, o, ""));
    }
  }

  /**
   * The owner's control API through the link, for callers who hold
   * {@code intrustd+perm://intrustd/admin} (owners and admins): what the admin app uses. The
   * channel stays revocable like an app's.
   */
  private final class AdminGate implements Exchange.Gate {
    private final Instant at = Instant.now();
    private final String link;
    private volatile LinkAccess.Principal principal;
    private volatile Runnable forget = () -> { };

    AdminGate(String link) {
      this.link = link;
    }

    @Override
    public Verdict enter(Exchange exchange) {
      LinkAccess.Principal p = access.principal(link);
      principal = p;
      if (!p.permissions().contains(Permission.ADMIN)) {
        return new Verdict.Refuse(new Problem(403, "administering this appliance needs its owner or an admin: log in"));
      }
      forget = access.openedAdmin(link, exchange);
      return new Verdict.Enter(Map.of(TrustedHeaders.APPLIANCE, applianceId.toString(), TrustedHeaders.LINK, link));
    }

    @Override
    public void left(Exchange.Outcome o) {
      forget.run();
      LinkAccess.Principal p = principal;
      boolean admitted = p != null && p.permissions().contains(Permission.ADMIN);
      log.record(entry(at, link, p == null ? Optional.empty() : p.persona().map(x -> x.name()),
          p == null ? List.of() : p.tokens().stream().map(t -> t.id()).toList(), ADMIN_LABEL, o,
          admitted ? "admin" : ""));
    }
  }

  private static AccessLog.Entry entry(Instant at, String link, Optional<String> persona, List<String> tokens,
      String app, Exchange.Outcome o, String grant) {
    return new AccessLog.Entry(0, at, link, persona, tokens, app, o.method(), o.target(), o.status(), o.bytesIn(),
        o.bytesOut(), o.millis(), o.result(), grant);
  }

  private static String printable(String s) {
    String cut = s.length() > 80 ? s.substring(0, 80) : s;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }

  /** Ends every exchange (each resets its channel) and waits briefly for them to finish. */
  @Override
  public void close() {
    exchanges.shutdownNow();
    try {
      if (!exchanges.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS)) {
        LOG.log(Level.WARNING, "some exchanges did not end within 5 s of shutdown");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
