package org.intrustd.appliance.access;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;
import org.intrustd.appliance.net.LocalHttp;
import org.intrustd.appliance.net.LocalHttp.HttpProblem;
import org.intrustd.appliance.net.LocalHttp.Request;
import org.intrustd.core.access.Permission;
import org.intrustd.core.id.ApplianceId;

/**
 * What an app may ask of the daemon about tokens, on its own daemon socket with
 * {@code Host: intrustd} (docs/spec/access.md, "Tokens minted by apps"): mint a token for the
 * person behind one of its requests, list and revoke the tokens it minted. No escalation: a
 * token grants only permissions the app defines in its manifest and that person holds (or, for
 * those the manifest marks {@code "sharedBy": "open"}, that person may open the app).
 */
public final class AppTokenApi {
  private static final System.Logger LOG = System.getLogger("intrustd.access");
  public static final int MAX_BODY = 16 * 1024;

  private final ApplianceId appliance;
  private final AccessStore store;
  private final LinkAccess links;
  /** The permission names an app defines in its manifest. */
  private final Function<String, Set<String>> defines;

  public AppTokenApi(ApplianceId appliance, AccessStore store, LinkAccess links, Function<String, Set<String>> defines) {
    this.appliance = appliance;
    this.store = store;
    this.links = links;
    this.defines = defines;
  }

  /** Answers {@code request} from app {@code caller}; refusals are {@link HttpProblem}s. */
  public JsonNode handle(String caller, Request request) {
    List<String> path = request.path();
    if (path.size() == 2 && path.get(0).equals("v1") && path.get(1).equals("tokens")) {
      if (request.method().equals("POST")) {
        return mint(caller, request.json());
      }
      LocalHttp.requireMethod(request, "GET");
      ArrayNode out = LocalHttp.JSON.createArrayNode();
      store.tokens(false).stream().filter(t -> t.createdFromApp().filter(caller::equals).isPresent())
          .forEach(t -> out.add(describe(t)));
      return LocalHttp.JSON.createObjectNode().set("tokens", out);
    }
    if (path.size() == 3 && path.get(0).equals("v1") && path.get(1).equals("tokens")) {
      LocalHttp.requireMethod(request, "DELETE");
      AccessStore.Token t = store.token(path.get(2)).filter(x -> x.createdFromApp().filter(caller::equals).isPresent())
          .orElseThrow(() -> new HttpProblem(404, "app '" + caller + "' minted no token with id '" + path.get(2) + "'"));
      store.revokeToken(t.id());
      LOG.log(Level.INFO, "app {0} revoked its token {1}", caller, t.id());
      return describe(store.token(t.id()).orElseThrow());
    }
    throw new HttpProblem(404, "the daemon offers apps POST, GET /v1/tokens and DELETE /v1/tokens/<id>");
  }

  private JsonNode mint(String caller, JsonNode req) {
    LinkAccess.Requester who = links.requester(caller, LocalHttp.text(req, "request"))
        .orElseThrow(() -> new HttpProblem(403, "'request' must be the X-Intrustd-Request of a request this app"
            + " received in the last " + LinkAccess.REQUEST_LIFETIME.toMinutes() + " minutes"));
    String persona = who.persona().orElseThrow(() -> new HttpProblem(403,
        "only a logged-in persona can share: this request came from a visitor with a token or no login"));
    JsonNode list = req.path("permissions");
    if (!list.isArray() || list.isEmpty()) {
      throw new HttpProblem(400, "'permissions' must be a non-empty array of intrustd+perm:// names");
    }
    Set<String> defined = defines.apply(caller);
    List<Permission> perms = new ArrayList<>();
    for (JsonNode n : list) {
      Permission p = Permission.tryParse(n.asText())
          .orElseThrow(() -> new HttpProblem(400, "'" + n.asText() + "' is not a permission"));
      if (!p.app().equals(caller) || !defined.contains(p.name())) {
        throw new HttpProblem(403, "app '" + caller + "' may only share permissions it defines, not " + p);
      }
      if (!links.mayShare(who.holds(), p)) {
        throw new HttpProblem(403, persona + " does not hold " + p + ", so cannot share it");
      }
      perms.add(p);
    }
    Optional<Instant> expires = Optional.empty();
    if (req.hasNonNull("expiresIn")) {
      expires = Optional.of(Instant.now().plus(DurationText.parse(LocalHttp.text(req, "expiresIn"))));
    }
    OptionalLong maxUses = req.hasNonNull("maxUses") ? OptionalLong.of(req.get("maxUses").asLong()) : OptionalLong.empty();
    AccessStore.MintedToken minted = store.mint(new AccessStore.TokenSpec(perms, Optional.of(persona),
        req.hasNonNull("label") ? LocalHttp.text(req, "label") : "shared from " + caller, persona, Optional.of(caller),
        expires, maxUses));
    LOG.log(Level.INFO, "app {0} minted token {1} for {2}: {3}", caller, minted.token().id(), persona, perms);
    ObjectNode out = describe(minted.token());
    out.put("secret", minted.secret());
    out.put("fragment", "intrustd-appliance=" + appliance + "&intrustd-token=" + minted.secret());
    return out;
  }

  public static ObjectNode describe(AccessStore.Token t) {
    ObjectNode n = LocalHttp.JSON.createObjectNode().put("id", t.id()).put("label", t.label()).put("creator", t.creator())
        .put("created", t.created().toString()).put("uses", t.uses());
    ArrayNode perms = n.putArray("permissions");
    t.permissions().forEach(p -> perms.add(p.toString()));
    t.persona().ifPresent(p -> n.put("persona", p));
    t.createdFromApp().ifPresent(a -> n.put("createdFromApp", a));
    t.expires().ifPresent(e -> n.put("expires", e.toString()));
    t.maxUses().ifPresent(m -> n.put("maxUses", m));
    t.revoked().ifPresent(r -> n.put("revoked", r.toString()));
    return n;
  }
}
