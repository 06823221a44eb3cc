package org.intrustd.appliance.interapp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.appliance.net.LocalHttp;
import org.intrustd.appliance.net.LocalHttp.HttpProblem;
import org.intrustd.appliance.net.LocalHttp.Request;
import org.intrustd.appliance.permissions.Grants;
import org.intrustd.appliance.personas.PersonaStore;

/**
 * Who is on this appliance and whom it knows, for its apps, on their daemon socket with
 * {@code Host: intrustd} (docs/apps.md, "The daemon's API for apps"): the personas (names
 * and display names, nothing more), and, to an app that may call other appliances, the paired
 * ones (ID and name). Mail uses both: a mailbox for every persona, and paired appliances among
 * the contacts.
 */
public final class AppDirectory {
  private final PersonaStore personas;
  private final AccessStore access;
  private final Grants grants;

  public AppDirectory(PersonaStore personas, AccessStore access, Grants grants) {
    this.personas = personas;
    this.access = access;
    this.grants = grants;
  }

  /** Whether {@code path} is one of the directory's (the rest of the daemon's API for apps is elsewhere). */
  static boolean serves(List<String> path) {
    return path.size() == 2 && path.get(0).equals("v1") && (path.get(1).equals("personas") || path.get(1).equals("peers"));
  }

  /** Answers {@code request} from app {@code caller}; refusals are {@link HttpProblem}s. */
  public JsonNode handle(String caller, Request request) {
    LocalHttp.requireMethod(request, "GET");
    ObjectNode out = LocalHttp.JSON.createObjectNode();
    if (request.path().get(1).equals("personas")) {
      ArrayNode list = out.putArray("personas");
      personas.list().forEach(p -> list.addObject().put("name", p.name()).put("displayName", p.displayName()));
      return out;
    }
    if (!grants.mayCallPeers(caller) && !grants.meetsStrangers(caller)) {
      throw new HttpProblem(403, "app '" + caller + "' may not call other appliances, so it is not told which are paired;"
          + " the owner can allow it with: intrustd app grant " + caller + " " + Grants.PEER);
    }
    ArrayNode list = out.putArray("peers");
    access.peers().forEach(p -> list.addObject().put("id", p.id()).put("name", p.name()));
    return out;
  }
}
