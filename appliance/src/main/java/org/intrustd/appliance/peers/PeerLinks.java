package org.intrustd.appliance.peers;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.intrustd.appliance.access.AccessException;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.client.ApplianceClient;
import org.intrustd.client.ChannelStream;
import org.intrustd.client.ClientException;
import org.intrustd.client.HttpResult;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.identity.Identity;
import org.intrustd.link.LinkFactory;

/**
 * This appliance's links to other appliances, paired with it or not (docs/spec/peers.md): opened
 * through its flock like a browser's, verified against the peer's ID like a browser's, and then
 * proved from this end with the identity key, so the peer knows which appliance calls. One link
 * per peer, made when first needed and again when it has failed, closed when idle. Thread-safe.
 */
public final class PeerLinks implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.peers");
  static final String SESSION = "intrustd/session";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Each step (flock, answer, channel, response): a peer that is offline is known within this. */
  private static final Duration STEP = Duration.ofSeconds(10);

  private final Identity identity;
  private final LinkFactory links;
  private final Supplier<URI> flock;
  private final AccessStore store;
  private final Map<String, Linked> open = new ConcurrentHashMap<>();
  private final Map<String, Object> dialing = new ConcurrentHashMap<>();

  public PeerLinks(Identity identity, LinkFactory links, Supplier<URI> flock, AccessStore store) {
    this.store = store;
    this.identity = identity;
    this.links = links;
    this.flock = flock;
  }

  /** What a peer answered when this appliance paired with it: its name, and what this one may open there. */
  public record Paired(String name, List<String> allowedThere) {}

  /**
   * Pairs with {@code peer} using the code its owner gave: proves this appliance, presents the
   * code, and keeps the link for later calls. A refusal is an {@link AccessException} with the
   * peer's words (a wrong code, say); an unreachable peer is a {@link ClientException}.
   */
  public Paired pair(ApplianceId peer, String code, String myName) {
    ApplianceClient client = dial(peer);
    try {
      JsonNode answer = call(client, "/v1/peer/pair", proof(peer, client).put("code", code).put("name", myName));
      List<String> allowed = JSON.convertValue(answer.path("peer").path("allow"), JSON.getTypeFactory()
          .constructCollectionType(List.class, String.class));
      Linked previous = open.put(peer.toString(), new Linked(client));
      if (previous != null) {
        previous.client().close();
      }
      return new Paired(answer.path("peer").path("name").asText(peer.toString()), allowed);
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  /** Tells {@code peer} that this appliance unpaired it, best effort, and drops the link. */
  public void unpaired(ApplianceId peer) {
    Linked linked = open.remove(peer.toString());
    ApplianceClient client = linked == null ? null : linked.client();
    try {
      if (client == null || !client.isUp()) {
        client = dial(peer);
        call(client, "/v1/peer/hello", proof(peer, client));
      }
      call(client, "/v1/peer/unpair", null);
    } catch (RuntimeException e) {
      LOG.log(Level.INFO, "could not tell {0} that it is unpaired ({1}); it learns at its next call", peer, e.getMessage());
    } finally {
      if (client != null) {
        client.close();
      }
    }
  }

  /**
   * An open channel to app {@code app} on the paired appliance {@code peer}: an HTTP/1.1
   * exchange goes over it as over a browser's (channels.md). A {@link ClientException} says why
   * there is none (offline, refused); an {@link AccessException} that {@code peer} is not paired.
   */
  public ChannelStream open(ApplianceId peer, String app) {
    if (!isPaired(peer)) {
      throw new AccessException(403, "appliance " + peer + " is not paired with this one (intrustd peer list)");
    }
    return openAny(peer, app);
  }

  /**
   * {@link #open} for any appliance, paired or not: the caller has checked that it may. The
   * appliance admits the channel or refuses it as it sees fit (a refusal is its HTTP answer).
   */
  public ChannelStream openAny(ApplianceId peer, String app) {
    Linked linked = linkTo(peer);
    ChannelStream stream;
    try {
      stream = linked.client().open("http/" + app);
    } catch (ClientException e) {
      // A link that opens no channel is as good as gone: one more try on a new one.
      drop(peer.toString(), linked);
      linked = linkTo(peer);
      stream = linked.client().open("http/" + app);
    }
    linked.inUse(stream);
    return stream;
  }

  public boolean isPaired(ApplianceId peer) {
    return store.peer(peer.toString()).isPresent();
  }

  /**
   * Closes the links on which no channel has been open for {@code idle}: appliances written to
   * once do not keep a link (and the flock's and relay's resources) for ever. Run periodically.
   */
  public void closeIdle(Duration idle) {
    long now = System.nanoTime();
    open.forEach((key, linked) -> {
      if (!linked.client().isUp() || linked.idleFor(now) > idle.toNanos()) {
        if (drop(key, linked)) {
          LOG.log(Level.INFO, "closed the idle link to appliance {0}", key);
        }
      }
    });
  }

  private boolean drop(String key, Linked linked) {
    boolean removed = open.remove(key, linked);
    linked.client().close();
    return removed;
  }

  /** A link to an appliance, and the channels it carries: it is idle once they have all closed. */
  private static final class Linked {
    private final ApplianceClient client;
    private final java.util.Set<ChannelStream> streams = ConcurrentHashMap.newKeySet();
    private volatile long lastUsed = System.nanoTime();

    Linked(ApplianceClient client) {
      this.client = client;
    }

    ApplianceClient client() {
      return client;
    }

    void inUse(ChannelStream stream) {
      lastUsed = System.nanoTime();
      streams.add(stream);
    }

    long idleFor(long now) {
      streams.removeIf(s -> !s.isOpen());
      if (!streams.isEmpty()) {
        lastUsed = now;
      }
      return now - lastUsed;
    }
  }

  private Linked linkTo(ApplianceId peer) {
    String key = peer.toString();
    synchronized (dialing.computeIfAbsent(key, k -> new Object())) { // one dial per peer at a time
      Linked linked = open.get(key);
      if (linked != null && linked.client().isUp()) {
        return linked;
      }
      if (linked != null) {
        drop(key, linked);
      }
      ApplianceClient client = dial(peer);
      try {
        call(client, "/v1/peer/hello", proof(peer, client));
      } catch (RuntimeException e) {
        client.close();
        throw e;
      }
      linked = new Linked(client);
      open.put(key, linked);
      LOG.log(Level.INFO, "linked to appliance {0} ({1})", peer, isPaired(peer) ? "paired" : "not paired");
      return linked;
    }
  }

  private ApplianceClient dial(ApplianceId peer) {
    return ApplianceClient.connect(flock.get(), peer, links, STEP);
  }

  private com.fasterxml.jackson.databind.node.ObjectNode proof(ApplianceId peer, ApplianceClient client) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return JSON.createObjectNode().put("appliance", identity.id().toString())
        .put("publicKey", b64.encodeToString(identity.publicKey()))
        .put("proof", b64.encodeToString(identity.signPeer(peer.toString(), client.fingerprint())));
  }

  /** One call to the peer's session API; its refusal as an {@link AccessException} with the peer's words. */
  private static JsonNode call(ApplianceClient client, String path, JsonNode body) {
    HttpResult r = client.json(SESSION, "POST", path, body == null ? null : body.toString());
    JsonNode json;
    try {
      json = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
    } catch (java.io.IOException e) {
      throw new ClientException("the peer answered " + r.status() + " with a body that is not JSON");
    }
    if (r.status() / 100 != 2) {
      throw new AccessException(r.status() == 401 || r.status() == 403 || r.status() == 429 ? r.status() : 502,
          "the peer refused: " + json.path("detail").asText("HTTP " + r.status()));
    }
    return json;
  }

  @Override
  public void close() {
    open.values().forEach(l -> l.client().close());
    open.clear();
  }
}
