package org.intrustd.appliance.links;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.intrustd.appliance.access.LinkAccess;
import org.intrustd.appliance.flock.FlockConnection;
import org.intrustd.appliance.proxy.ChannelProxy;
import org.intrustd.core.access.SessionProof;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalMessage.ApplianceAnswer;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.IceServer;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Ping;
import org.intrustd.core.signal.SignalMessage.Pong;
import org.intrustd.core.signal.SignalMessage.Register;
import org.intrustd.core.signal.SignalMessage.Registered;
import org.intrustd.link.Channel;
import org.intrustd.link.IceCandidate;
import org.intrustd.link.Link;
import org.intrustd.link.LinkConfig;
import org.intrustd.link.LinkException;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.LinkListener;
import org.intrustd.link.LinkPath;
import org.intrustd.link.LinkState;

/**
 * Turns offers into peer links: answers each offer with a signed answer
 * (docs/spec/identity.md, {@code intrustd/answer/v1}), trickles candidates both ways, and
 * gives the channels the client opens to the {@link ChannelProxy}. Offers come through one
 * {@link Signalling} per flock connection (the flock on the internet, and the appliance's own
 * LAN flock), each with its own session ids and ICE servers; the links they make are counted
 * and closed together. Links outlive the flock connection: once connected, a link needs no
 * signalling. Thread-safe.
 */
public final class LinkSessions implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.links");
  static final int MAX_LINKS = 64;

  private final Identity identity;
  private final LinkFactory links;
  private final ChannelProxy proxy;
  private final LinkAccess access;
  private final java.util.Set<Link> live = ConcurrentHashMap.newKeySet();

  public LinkSessions(Identity identity, LinkFactory links, ChannelProxy proxy, LinkAccess access) {
    this.identity = identity;
    this.links = links;
    this.proxy = proxy;
    this.access = access;
  }

  /** A new handler for one flock connection; {@link Signalling#attach} it before the connection starts. */
  public Signalling signalling() {
    return new Signalling();
  }

  /** The signalling through one flock connection. */
  public final class Signalling implements FlockConnection.Handler {
    // Sessions still signalling, by this flock's session id; a link leaves this map on bye but
    // stays in `live` (and working) until it closes.
    private final Map<String, Link> bySession = new ConcurrentHashMap<>();
    private volatile FlockConnection flock;
    private volatile List<LinkConfig.IceServer> iceServers = List.of();

    private Signalling() { }

    /** Where answers and candidates go; set once before the connection starts. */
    public void attach(FlockConnection connection) {
      this.flock = connection;
    }

    @Override
    public void onRegistered(String canonicalId, List<IceServer> servers) {
      iceServers = servers.stream().map(s -> new LinkConfig.IceServer(s.urls(), s.username(), s.credential())).toList();
    }

    @Override
    public void onDisconnected() {
      // Connected links keep working without the flock; links still being set up will fail
      // ICE on their own and be cleaned up by their state change.
    }

    @Override
    public void onMessage(ApplianceMessage message) {
      switch (message) {
        case Offer o -> answer(o);
        case Candidate c -> Optional.ofNullable(bySession.get(c.session()))
            .ifPresent(link -> link.addRemoteCandidate(new IceCandidate(c.candidate(), c.sdpMid(), c.sdpMLineIndex())));
        case Bye b -> Optional.ofNullable(bySession.remove(b.session())).ifPresent(link -> {
          LOG.log(Level.DEBUG, "[{0}] bye from the flock: {1}", link.id(), b.reason());
          // A connected link lives on: the client's flock connection may just have dropped.
          if (link.state() != LinkState.CONNECTED && live.remove(link)) {
            link.close();
          }
        });
        case Error e -> LOG.log(Level.WARNING, "flock error {0}: {1}", e.code(), e.message());
        case Challenge c -> { }
        case Register r -> { }
        case Registered r -> { }
        case ApplianceAnswer a -> { }
        case Ping p -> { }
        case Pong p -> { }
      }
    }

    private void answer(Offer offer) {
      if (live.size() >= MAX_LINKS) {
        flock.send(new Bye(offer.session(), "too-many-links"));
        return;
      }
      String session = offer.session();
      // The client's certificate fingerprint names it for session binding (docs/spec/access.md);
      // DTLS will hold the client to it, and the signed answer covers it.
      Optional<String> fingerprint = SessionProof.fingerprintOf(offer.sdp());
      if (fingerprint.isEmpty()) {
        flock.send(new Bye(session, "bad-offer"));
        return;
      }
      java.util.concurrent.atomic.AtomicReference<Link> self = new java.util.concurrent.atomic.AtomicReference<>();
      LinkListener listener = new LinkListener() {
        @Override
        public void onLocalCandidate(IceCandidate c) {
          flock.send(new Candidate(session, c.candidate(), c.sdpMid(), c.sdpMLineIndex()));
        }

        @Override
        public void onChannel(Channel channel) {
          Link link = self.get();
          if (link != null && live.contains(link)) {
            proxy.accept(link, channel);
          } else {
            channel.close();
          }
        }

        @Override
        public void onStateChange(LinkState state) {
          Link link = self.get();
          if (link == null) {
            return;
          }
          if (state.isFinal()) {
            bySession.remove(session, link);
            if (live.remove(link)) {
              LOG.log(Level.INFO, "[{0}] link {1}", link.id(), state.name().toLowerCase(java.util.Locale.ROOT));
              access.unregister(link.id());
              link.close();
            }
          } else if (state == LinkState.CONNECTED) {
            LOG.log(Level.INFO, "[{0}] link connected", link.id());
          }
        }

        @Override
        public void onPathChange(LinkPath path) {
          Link link = self.get();
          if (link != null) {
            // Tests and operators read this line: which way the link goes (docs/relay.md).
            LOG.log(Level.INFO, "[{0}] link path {1}", link.id(), path.label());
          }
        }
      };
      LinkFactory.PendingAnswer pending;
      try {
        // The offer's own servers carry fresh TURN credentials; those of the registration may have expired.
        List<LinkConfig.IceServer> servers = offer.iceServers().isEmpty() ? iceServers : offer.iceServers().stream()
            .map(s -> new LinkConfig.IceServer(s.urls(), s.username(), s.credential())).toList();
        pending = links.answer(offer.sdp(), new LinkConfig(servers), listener);
      } catch (LinkException e) {
        LOG.log(Level.INFO, "refused an offer: {0}", e.getMessage());
        flock.send(new Bye(session, "bad-offer"));
        return;
      }
      self.set(pending.link());
      access.register(pending.link().id(), fingerprint.get());
      live.add(pending.link());
      bySession.put(session, pending.link());
      byte[] signature = identity.signAnswer(offer.sdp(), pending.sdp());
      // The answer goes out before it is applied, so that no candidate overtakes it.
      flock.send(new ApplianceAnswer(session, pending.sdp(), signature));
      try {
        pending.apply();
        KeepaliveEcho.attach(pending.link());
      } catch (LinkException e) {
        bySession.remove(session);
        live.remove(pending.link());
        access.unregister(pending.link().id());
        pending.link().close();
        flock.send(new Bye(session, "answer-failed"));
      }
    }
  }

  /** Connected links by path label ({@code direct-lan}, {@code direct-nat}, {@code relay}, {@code unknown}). */
  public Map<String, Integer> linkPaths() {
    Map<String, Integer> out = new java.util.TreeMap<>();
    for (Link link : live) {
      if (link.state() == LinkState.CONNECTED) {
        out.merge(link.path().label(), 1, Integer::sum);
      }
    }
    return out;
  }

  /** Links that are set up or being set up. */
  public int liveLinks() {
    return live.size();
  }

  @Override
  public void close() {
    live.forEach(Link::close);
    live.clear();
  }
}
