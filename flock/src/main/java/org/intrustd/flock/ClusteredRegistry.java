package org.intrustd.flock;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import com.hazelcast.topic.ITopic;
import java.lang.System.Logger.Level;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.signal.Decoded;
import org.intrustd.core.signal.ErrorCode;
import org.intrustd.core.signal.SignalCodec;
import org.intrustd.core.signal.SignalMessage.ApplianceMessage;
import org.intrustd.core.signal.SignalMessage.Bye;
import org.intrustd.core.signal.SignalMessage.Candidate;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;
import org.intrustd.core.signal.SignalMessage.ClientMessage;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Offer;

/**
 * The registry of a flock node in a cluster (docs/flock-cluster.md), and the relay of signalling
 * between nodes.
 *
 * <p>Which node serves each appliance is a Hazelcast map, canonical appliance ID → {@code
 * "<node uuid> <connection id>"}; the connection part makes each entry unique, so that a
 * connection that ends removes its own entry and never a newer registration's. The connections
 * themselves stay in a {@link LocalApplianceRegistry}.
 *
 * <p>Signalling between a client on node B and an appliance on node A goes on a Hazelcast
 * {@link ITopic} per node, which only that node subscribes to. A topic, rather than a queue:
 * messages published by one member reach a subscriber in publish order, one at a time on one
 * event thread, which is the per-session order trickle ICE needs (an offer before its
 * candidates, a bye last), in one hop with nothing stored; a dead node's topic simply drops what
 * is sent to it, where a queue would keep it forever. Delivery is at most once: a message lost
 * with a node fails that node's sessions, which the membership listener ends with {@code
 * node-lost} so that clients retry.
 *
 * <p>Each node holds its own {@link Link} for a session that crosses nodes, keyed in {@link
 * #crossing} by the flock session id, which both nodes know. Thread-safe.
 */
final class ClusteredRegistry implements ApplianceRegistry {
  private static final System.Logger LOG = System.getLogger(ClusteredRegistry.class.getName());
  static final String OWNERS = "intrustd.flock.appliances";
  static final String TOPIC_PREFIX = "intrustd.flock.node.";

  private final HazelcastInstance hz;
  private final UUID self;
  private final Limits limits;
  private final IMap<String, String> owners;
  private final LocalApplianceRegistry local = new LocalApplianceRegistry();
  private final ConcurrentMap<String, Link> crossing = new ConcurrentHashMap<>();
  private final ConcurrentMap<UUID, ITopic<String>> topics = new ConcurrentHashMap<>();

  ClusteredRegistry(HazelcastInstance hz, Limits limits) {
    this.hz = hz;
    this.self = hz.getCluster().getLocalMember().getUuid();
    this.limits = limits;
    this.owners = hz.getMap(OWNERS);
    hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent event) {
        LOG.log(Level.INFO, "cluster: node " + event.getMember() + " joined");
      }

      @Override
      public void memberRemoved(MembershipEvent event) {
        nodeLost(event.getMember());
      }
    });
    hz.<String>getTopic(TOPIC_PREFIX + self).addMessageListener(message -> received(message.getMessageObject()));
    LOG.log(Level.INFO, "cluster: this node is " + hz.getCluster().getLocalMember() + "; members "
        + hz.getCluster().getMembers());
  }

  /** This node's id in the cluster. */
  UUID node() {
    return self;
  }

  /** How many nodes the cluster has now, this one included. */
  int members() {
    return hz.getCluster().getMembers().size();
  }

  /** The node that serves {@code id}, as the cluster map says. */
  Optional<UUID> nodeOf(ApplianceId id) {
    return Optional.ofNullable(owners.get(id.toString())).flatMap(ClusteredRegistry::nodeOfEntry);
  }

  // ---------------------------------------------------------------- the registry

  @Override
  public Optional<ApplianceEndpoint> register(ApplianceId id, ApplianceEndpoint endpoint) {
    Optional<ApplianceEndpoint> replaced = local.register(id, endpoint);
    String previous = owners.put(id.toString(), entry(endpoint));
    // Registered on another node before: that node closes its connection as replaced (flock.md).
    Optional.ofNullable(previous).flatMap(ClusteredRegistry::nodeOfEntry).filter(node -> !node.equals(self))
        .ifPresent(node -> publish(node, new ClusterEnvelope(ClusterEnvelope.Kind.REPLACED, self, Optional.of(id), "")));
    return replaced;
  }

  @Override
  public Optional<ApplianceSide> find(ApplianceId id) {
    Optional<ApplianceEndpoint> here = local.endpoint(id);
    if (here.isPresent()) {
      return here.map(ApplianceSide.Local::new);
    }
    // An entry of ours with no connection here is one being unregistered: offline.
    return nodeOf(id).filter(node -> !node.equals(self) && isMember(node))
        .map(node -> new RemoteAppliance(this, node, id));
  }

  @Override
  public void unregister(ApplianceId id, ApplianceEndpoint endpoint) {
    if (local.forget(id, endpoint)) {
      try {
        owners.remove(id.toString(), entry(endpoint));
      } catch (RuntimeException e) { // the member is shutting down: the others forget us anyway
        LOG.log(Level.DEBUG, "cluster: could not unregister " + id + ": " + e);
      }
    }
  }

  /** Leaves the cluster; the other nodes forget this node's appliances. */
  @Override
  public void close() {
    try {
      hz.shutdown();
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "cluster: the member did not leave cleanly: " + e);
    }
  }

  /** Drops out of the cluster at once, as a node that dies (tests). */
  void crash() {
    hz.getLifecycleService().terminate();
  }

  // ---------------------------------------------------------------- between nodes

  /** The far end of a link whose appliance is connected to another node. */
  record RemoteAppliance(ClusteredRegistry cluster, UUID node, ApplianceId id) implements ApplianceSide {
    @Override
    public Sessions.Added open(Link link, Offer offer, int maxSessions) {
      cluster.crossing.put(link.flockSession, link);
      // Checked after the link is listed: a node lost from now on ends it (nodeLost).
      if (!cluster.isMember(node)) {
        return Sessions.Added.CLOSED;
      }
      cluster.publish(node, new ClusterEnvelope(ClusterEnvelope.Kind.INTRODUCE, cluster.self, Optional.of(id),
          SignalCodec.encode(offer)));
      return Sessions.Added.ADDED;
    }

    @Override
    public void send(ApplianceMessage message) {
      cluster.publish(node, new ClusterEnvelope(ClusterEnvelope.Kind.TO_APPLIANCE, cluster.self, Optional.empty(),
          SignalCodec.encode(message)));
    }

    @Override
    public void forget(Link link) {
      cluster.crossing.remove(link.flockSession, link);
    }

    @Override
    public String toString() {
      return "node " + node;
    }
  }

  /** The far end of a link whose client is connected to another node. */
  record RemoteClient(ClusteredRegistry cluster, UUID node) implements ClientSide {
    @Override
    public void send(ClientMessage message) {
      cluster.publish(node, new ClusterEnvelope(ClusterEnvelope.Kind.TO_CLIENT, cluster.self, Optional.empty(),
          SignalCodec.encode(message)));
    }

    @Override
    public void forget(Link link) {
      cluster.crossing.remove(link.flockSession, link);
    }

    @Override
    public String toString() {
      return "node " + node;
    }
  }

  private void publish(UUID node, ClusterEnvelope envelope) {
    try {
      topics.computeIfAbsent(node, n -> hz.getTopic(TOPIC_PREFIX + n)).publish(envelope.encode());
    } catch (RuntimeException e) { // this member is shutting down; the far end's sessions end with it
      LOG.log(Level.DEBUG, "cluster: could not send to node " + node + ": " + e);
    }
  }

  /** One envelope from another node, on Hazelcast's event thread for our topic: in order. */
  private void received(String text) {
    Optional<ClusterEnvelope> decoded = ClusterEnvelope.decode(text);
    if (decoded.isEmpty()) {
      LOG.log(Level.WARNING, "cluster: dropped a malformed message from another node");
      return;
    }
    ClusterEnvelope envelope = decoded.get();
    try {
      switch (envelope.kind()) {
        case INTRODUCE -> introduce(envelope.from(), envelope.appliance().orElseThrow(), envelope.body());
        case TO_APPLIANCE -> toAppliance(envelope.body());
        case TO_CLIENT -> toClient(envelope.body());
        case REPLACED -> replaced(envelope.appliance().orElseThrow());
      }
    } catch (RuntimeException e) { // never let one message stop this node's topic
      LOG.log(Level.ERROR, "cluster: failed handling a " + envelope.kind() + " from node " + envelope.from(), e);
    }
  }

  /** A client on node {@code from} asks for one of our appliances. */
  private void introduce(UUID from, ApplianceId id, String body) {
    if (!(SignalCodec.decodeAppliance(body) instanceof Decoded.Ok<ApplianceMessage> ok && ok.message() instanceof Offer offer)) {
      LOG.log(Level.WARNING, "cluster: an introduction from node " + from + " without an offer");
      return;
    }
    String session = offer.session();
    RemoteClient client = new RemoteClient(this, from);
    Optional<ApplianceEndpoint> endpoint = local.endpoint(id);
    if (endpoint.isEmpty()) {
      client.send(new Error(ErrorCode.APPLIANCE_OFFLINE.wire(), id + " is not registered", Optional.of(session)));
      return;
    }
    // The client's session id stays on its own node: here the link knows the flock's only.
    Link link = new Link(session, session, client, new ApplianceSide.Local(endpoint.get()));
    if (crossing.putIfAbsent(session, link) != null) {
      LOG.log(Level.WARNING, "cluster: node " + from + " reused the session id of an open session");
      return;
    }
    if (!isMember(from)) {
      crossing.remove(session, link);
      return;
    }
    switch (link.appliance.open(link, offer, limits.sessionsPerAppliance())) {
      case ADDED -> LOG.log(Level.DEBUG, "cluster: introduced a client of node " + from + " to " + id + " at " + endpoint.get());
      case FULL -> refuse(link, ErrorCode.TOO_MANY_SESSIONS, id + " has too many sessions");
      case CLOSED -> refuse(link, ErrorCode.APPLIANCE_OFFLINE, id + " is not registered");
      case EXISTS -> throw new IllegalStateException("128-bit random session ids collided");
    }
  }

  private void refuse(Link link, ErrorCode code, String message) {
    link.end();
    link.client.send(new Error(code.wire(), message, Optional.of(link.flockSession)));
  }

  /** A candidate or bye from a client on another node, for one of our appliances. */
  private void toAppliance(String body) {
    if (!(SignalCodec.decodeAppliance(body) instanceof Decoded.Ok<ApplianceMessage> ok)) {
      return;
    }
    switch (ok.message()) {
      case Candidate c -> link(c.session()).ifPresent(link -> link.appliance.send(c));
      case Bye bye -> link(bye.session()).filter(Link::end).ifPresent(link -> link.appliance.send(bye));
      default -> LOG.log(Level.WARNING, "cluster: unexpected message for an appliance");
    }
  }

  /** An answer, candidate, bye or refusal from an appliance on another node, for one of our clients. */
  private void toClient(String body) {
    if (!(SignalCodec.decodeClient(body) instanceof Decoded.Ok<ClientMessage> ok)) {
      return;
    }
    switch (ok.message()) {
      case ClientAnswer a -> link(a.session()).ifPresent(link -> link.client.send(
          new ClientAnswer(link.clientSession, a.appliance(), a.publicKey(), a.sdp(), a.signature())));
      case Candidate c -> link(c.session()).ifPresent(link -> link.client.send(
          new Candidate(link.clientSession, c.candidate(), c.sdpMid(), c.sdpMLineIndex())));
      case Bye bye -> link(bye.session()).filter(Link::end)
          .ifPresent(link -> link.client.send(new Bye(link.clientSession, bye.reason())));
      case Error e when e.session().isPresent() -> link(e.session().get()).filter(Link::end)
          .ifPresent(link -> link.client.send(new Error(e.code(), e.message(), Optional.of(link.clientSession))));
      default -> LOG.log(Level.WARNING, "cluster: unexpected message for a client");
    }
  }

  /** Another node registered {@code id} after us: our connection is the replaced one, unless it re-registered since. */
  private void replaced(ApplianceId id) {
    local.endpoint(id).ifPresent(endpoint -> Thread.ofVirtual().name("cluster-replaced").start(() -> {
      if (!entry(endpoint).equals(owners.get(id.toString()))) {
        endpoint.close(Endpoint.REPLACED, "replaced");
      }
    }));
  }

  /**
   * A node left or died: every session through it is over, and its registrations are
   * forgotten, so that its appliances are offline until they register again elsewhere.
   */
  private void nodeLost(Member member) {
    UUID dead = member.getUuid();
    LOG.log(Level.WARNING, "cluster: node " + member + " left; ending its sessions and forgetting its appliances");
    for (Link link : crossing.values()) {
      if (link.client instanceof RemoteClient c && c.node().equals(dead) && link.end()) {
        link.appliance.send(new Bye(link.flockSession, ClientEndpoint.CLIENT_GONE));
      } else if (link.appliance instanceof RemoteAppliance a && a.node().equals(dead) && link.end()) {
        link.client.send(new Error(ErrorCode.NODE_LOST.wire(),
            "the flock node that served " + a.id() + " went away; introduce again", Optional.of(link.clientSession)));
      }
    }
    topics.remove(dead);
    // Off the event thread: the map's partitions may still be moving to the survivors. Every
    // survivor does this; it is idempotent.
    Thread.ofVirtual().name("cluster-forget").start(() -> {
      try {
        owners.removeAll(Predicates.like("this", dead + " %"));
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "cluster: could not forget the appliances of node " + dead + ": " + e);
      }
    });
  }

  private Optional<Link> link(String flockSession) {
    return Optional.ofNullable(crossing.get(flockSession));
  }

  private boolean isMember(UUID node) {
    return hz.getCluster().getMembers().stream().anyMatch(m -> m.getUuid().equals(node));
  }

  private String entry(ApplianceEndpoint endpoint) {
    return self + " " + endpoint.id;
  }

  private static Optional<UUID> nodeOfEntry(String entry) {
    int space = entry.indexOf(' ');
    try {
      return Optional.of(UUID.fromString(space < 0 ? entry : entry.substring(0, space)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}
