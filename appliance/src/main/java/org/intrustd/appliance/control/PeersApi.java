package org.intrustd.appliance.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.net.LocalHttp;
import org.intrustd.appliance.net.LocalHttp.HttpProblem;
import org.intrustd.appliance.net.LocalHttp.Request;
import org.intrustd.appliance.peers.PairingLink;
import org.intrustd.appliance.peers.PeerLinks;
import org.intrustd.client.ClientException;
import org.intrustd.core.id.ApplianceId;

/**
 * The owner's side of pairing (docs/spec/peers.md) on the control API: make a pairing code,
 * pair with another appliance's code, list peers, change what a peer may open here, unpair.
 */
final class PeersApi {
  private static final System.Logger LOG = System.getLogger("intrustd.control");
  private static final com.fasterxml.jackson.databind.ObjectMapper JSON = LocalHttp.JSON;
  private static final int MAX_ALLOW = 64;

  private final ApplianceId appliance;
  private final AccessStore store;
  private final PeerLinks links;
  private final Supplier<String> name;

  PeersApi(ApplianceId appliance, AccessStore store, PeerLinks links, Supplier<String> name) {
    this.appliance = appliance;
    this.store = store;
    this.links = links;
    this.name = name;
  }

  /**
   * {@code GET /v1/peers}; {@code POST /v1/peers/invites} {allow} makes a code;
   * {@code POST /v1/peers} {link, allow} pairs; {@code PUT /v1/peers/<id>} {allow};
   * {@code DELETE /v1/peers/<id>} unpairs.
   */
  JsonNode handle(Request request, List<String> path) {
    String method = request.method();
    if (path.size() == 2 && method.equals("GET")) {
      ObjectNode out = JSON.createObjectNode();
      ArrayNode peers = out.putArray("peers");
      store.peers().forEach(p -> peers.add(describe(p)));
      ArrayNode invites = out.putArray("invites");
      store.inviteExpiries(Instant.now()).forEach(e -> invites.addObject().put("expires", e.toString()));
      return out;
    }
    if (path.size() == 3 && path.get(2).equals("invites") && method.equals("POST")) {
      List<String> allow = allow(request.json());
      AccessStore.Invite invite = store.invite(allow, Instant.now());
      LOG.log(Level.INFO, "pairing code made; the peer may open {0}", allow);
      ObjectNode out = JSON.createObjectNode().put("code", invite.code())
          .put("link", new PairingLink(appliance, invite.code()).toString()).put("expires", invite.expires().toString());
      invite.allow().forEach(out.putArray("allow")::add);
      return out;
    }
    if (path.size() == 2 && method.equals("POST")) {
      JsonNode req = request.json();
      PairingLink link = PairingLink.parse(LocalHttp.text(req, "link"))
          .orElseThrow(() -> new HttpProblem(400, "'link' is not a pairing link (" + PairingLink.SCHEME + "<appliance-id>/<code>)"));
      if (link.appliance().equals(appliance)) {
        throw new HttpProblem(400, "that is this appliance's own pairing code");
      }
      List<String> allow = allow(req);
      PeerLinks.Paired paired;
      try {
        paired = links.pair(link.appliance(), link.code(), name.get());
      } catch (ClientException e) {
        throw new HttpProblem(504, "appliance " + link.appliance() + " cannot be reached: " + e.getMessage());
      }
      store.pair(link.appliance().toString(), paired.name(), allow, Instant.now());
      LOG.log(Level.WARNING, "paired with appliance {0} (''{1}''); it may open {2} here, this one {3} there",
          link.appliance(), paired.name(), allow, paired.allowedThere());
      ObjectNode out = describe(store.peer(link.appliance().toString()).orElseThrow());
      paired.allowedThere().forEach(out.putArray("allowedThere")::add);
      return out;
    }
    if (path.size() == 3) {
      String id = ApplianceId.parse(path.get(2)).map(ApplianceId::toString)
          .orElseThrow(() -> new HttpProblem(404, "'" + path.get(2) + "' is not an appliance ID"));
      AccessStore.Peer peer = store.peer(id).orElseThrow(() -> new HttpProblem(404, "no paired appliance " + id));
      switch (method) {
        case "PUT" -> {
          List<String> allow = allow(request.json());
          store.allowPeer(id, allow);
          LOG.log(Level.INFO, "paired appliance {0} may now open {1}", id, allow);
          return describe(store.peer(id).orElseThrow());
        }
        case "DELETE" -> {
          store.unpair(id);
          LOG.log(Level.WARNING, "unpaired appliance {0} (''{1}'')", id, peer.name());
          Thread.ofVirtual().start(() -> links.unpaired(ApplianceId.parse(id).orElseThrow()));
          return JSON.createObjectNode().put("unpaired", id);
        }
        default -> { }
      }
    }
    throw new HttpProblem(405, "use GET or POST /v1/peers, POST /v1/peers/invites, PUT or DELETE /v1/peers/<id>");
  }

  /** The apps a peer may open here: {@code "allow": ["mail", ...]} (none when absent). */
  private static List<String> allow(JsonNode req) {
    JsonNode allow = req.path("allow");
    if (allow.isMissingNode() || allow.isNull()) {
      return List.of();
    }
    if (!allow.isArray() || allow.size() > MAX_ALLOW) {
      throw new HttpProblem(400, "'allow' must be a list of at most " + MAX_ALLOW + " app ids");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode a : allow) {
      if (!a.isTextual() || !AppManifest.APP_ID.matcher(a.asText()).matches()) {
        throw new HttpProblem(400, "not an app id: " + a);
      }
      if (!out.contains(a.asText())) {
        out.add(a.asText());
      }
    }
    return out;
  }

  private static ObjectNode describe(AccessStore.Peer p) {
    ObjectNode out = JSON.createObjectNode().put("id", p.id()).put("name", p.name()).put("paired", p.paired().toString());
    p.lastSeen().ifPresentOrElse(t -> out.put("lastSeen", t.toString()), () -> out.putNull("lastSeen"));
    p.allow().forEach(out.putArray("allow")::add);
    return out;
  }
}
