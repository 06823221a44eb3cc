package org.intrustd.core.access;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The headers the daemon adds to every request it hands an app (docs/spec/access.md): who is
 * calling and what they hold. The daemon drops every {@code X-Intrustd-*} field a client
 * sends, so an app can trust these as long as it listens only on its daemon-given socket.
 * {@link #parse} is the helper for apps written in Java; {@link #format} is what the daemon
 * sends.
 */
public final class TrustedHeaders {
  public static final String APPLIANCE = "X-Intrustd-Appliance";
  public static final String LINK = "X-Intrustd-Link";
  public static final String PERSONA = "X-Intrustd-Persona";
  public static final String ROLE = "X-Intrustd-Role";
  public static final String TOKEN = "X-Intrustd-Token";
  public static final String PERMISSIONS = "X-Intrustd-Permissions";
  public static final String CALLER_APP = "X-Intrustd-Caller-App";
  /** The appliance that made the request, proved on the link (docs/spec/peers.md). */
  public static final String PEER = "X-Intrustd-Peer";
  /** {@code true} when {@link #PEER} is paired with this appliance, {@code false} for a stranger. */
  public static final String PEER_PAIRED = "X-Intrustd-Peer-Paired";
  /** An opaque id of this request, which the app quotes when it asks the daemon to act for the caller. */
  public static final String REQUEST = "X-Intrustd-Request";
  private static final Pattern TOKEN_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private TrustedHeaders() {}

  /**
   * Who made a request. {@code persona} is empty for a visitor with no login (a token alone, or
   * nothing); {@code tokens} lists the ids of the tokens that granted part of {@code permissions}.
   */
  public record Caller(String appliance, Optional<String> link, Optional<String> persona, Optional<String> role,
      List<String> tokens, Set<Permission> permissions, Optional<String> callerApp) {

    public Caller {
      tokens = List.copyOf(tokens);
      permissions = Set.copyOf(permissions);
    }

    /** Whether the caller holds {@code wanted} (directly, through a broader one, or as administrator). */
    public boolean has(Permission wanted) {
      return permissions.stream().anyMatch(p -> p.implies(wanted));
    }

    /** {@link #has} for a permission in text form; a malformed one is never held. */
    public boolean has(String wanted) {
      return Permission.tryParse(wanted).map(this::has).orElse(false);
    }

    public boolean isOwnerOrAdmin() {
      return role.filter(r -> r.equals("owner") || r.equals("admin")).isPresent();
    }
  }

  /** The header fields for {@code caller}, in a fixed order; absent parts are left out. */
  public static Map<String, String> format(Caller caller) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(APPLIANCE, caller.appliance());
    caller.link().ifPresent(v -> out.put(LINK, v));
    caller.callerApp().ifPresent(v -> out.put(CALLER_APP, v));
    caller.persona().ifPresent(v -> out.put(PERSONA, v));
    caller.role().ifPresent(v -> out.put(ROLE, v));
    if (!caller.tokens().isEmpty()) {
      out.put(TOKEN, String.join(",", caller.tokens()));
    }
    if (!caller.permissions().isEmpty()) {
      out.put(PERMISSIONS, String.join(" ", caller.permissions().stream().map(Permission::toString).sorted().toList()));
    }
    return out;
  }

  /**
   * Reads the trusted headers through {@code header} (name → value, case-insensitive, null
   * when absent). Malformed parts fail closed: an unparsable permission is dropped, and a
   * request without {@code X-Intrustd-Appliance} did not come from a daemon.
   */
  public static Caller parse(Function<String, String> header) {
    String appliance = header.apply(APPLIANCE);
    if (appliance == null || appliance.isBlank()) {
      throw new IllegalArgumentException("no " + APPLIANCE + " header: the request did not come through the daemon");
    }
    List<String> tokens = new ArrayList<>();
    String tokenField = header.apply(TOKEN);
    if (tokenField != null) {
      for (String t : tokenField.split(",")) {
        String id = t.strip();
        if (TOKEN_ID.matcher(id).matches()) {
          tokens.add(id);
        }
      }
    }
    Set<Permission> permissions = new LinkedHashSet<>();
    String permField = header.apply(PERMISSIONS);
    if (permField != null) {
      for (String p : permField.trim().split(" +")) {
        Permission.tryParse(p).ifPresent(permissions::add);
      }
    }
    return new Caller(appliance.strip(), present(header.apply(LINK)), present(header.apply(PERSONA)),
        present(header.apply(ROLE)).map(r -> r.toLowerCase(Locale.ROOT)), tokens, permissions,
        present(header.apply(CALLER_APP)));
  }

  /** {@link #parse} over a map of header fields (any case of names). */
  public static Caller parse(Map<String, String> fields) {
    Map<String, String> lower = new LinkedHashMap<>();
    fields.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
    return parse(name -> lower.get(name.toLowerCase(Locale.ROOT)));
  }

  private static Optional<String> present(String v) {
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
  }
}
