package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Access control from the command line, through the control socket: grants to personas and to
 * {@code anyone} ({@code intrustd grant}), tokens or share links ({@code intrustd token}),
 * login sessions ({@code intrustd session}) and the access log ({@code intrustd access-log}).
 */
final class AccessCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  private AccessCommand() {}

  @Command(name = "grant", mixinStandardHelpOptions = true,
      description = "Grant a permission to a persona or to anyone, revoke it, or list what a subject holds.",
      subcommands = {GrantAdd.class, GrantRevoke.class, GrantList.class})
  static final class Grant {}

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Grant a permission.")
  static final class GrantAdd extends ControlCommand {
    @Parameters(index = "0", paramLabel = "SUBJECT", description = "persona:<name> or anyone")
    String subject;

    @Parameters(index = "1", paramLabel = "PERMISSION",
        description = "e.g. intrustd+perm://intrustd/open?app=photos or intrustd+perm://photos/view?album=a")
    String permission;

    @Override
    public Integer call() {
      ObjectNode body = JSON.createObjectNode().put("subject", subject).put("permission", permission);
      return call("POST", "/v1/grants", body, r -> "granted " + r.path("granted").asText() + " to " + subject);
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke a permission; channels that needed it close at once.")
  static final class GrantRevoke extends ControlCommand {
    @Parameters(index = "0", paramLabel = "SUBJECT")
    String subject;

    @Parameters(index = "1", paramLabel = "PERMISSION")
    String permission;

    @Override
    public Integer call() {
      return call("DELETE", "/v1/grants?subject=" + encode(subject) + "&permission=" + encode(permission), null,
          r -> "revoked " + r.path("revoked").asText() + " from " + subject);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "What a subject holds.")
  static final class GrantList extends ControlCommand {
    @Parameters(index = "0", paramLabel = "SUBJECT")
    String subject;

    @Override
    public Integer call() {
      return call("GET", "/v1/grants?subject=" + encode(subject), null, r -> lines(r.path("permissions"), JsonNode::asText,
          subject + " holds nothing"));
    }
  }

  @Command(name = "token", mixinStandardHelpOptions = true,
      description = "Mint, list and revoke tokens (share links).",
      subcommands = {TokenMint.class, TokenList.class, TokenRevoke.class})
  static final class Token {}

  @Command(name = "mint", mixinStandardHelpOptions = true,
      description = "Mint a token granting PERMISSION...; its secret is printed once, with a share link.")
  static final class TokenMint extends ControlCommand {
    @Parameters(arity = "1..*", paramLabel = "PERMISSION")
    List<String> permissions = new ArrayList<>();

    @Option(names = "--label", description = "What the token is for (shown in lists and the access log).")
    String label;

    @Option(names = "--as", paramLabel = "PERSONA", description = "Act as this persona (never beyond what it holds).")
    String persona;

    @Option(names = "--expires-in", paramLabel = "DURATION", description = "e.g. 30m, 12h, 7d, 2w.")
    String expiresIn;

    @Option(names = "--max-uses", paramLabel = "N", description = "How many times it may be presented.")
    Long maxUses;

    @Option(names = "--page", paramLabel = "URL",
        description = "The web page the link opens (the secret goes in its #fragment, never to a server).")
    String page;

    @Override
    public Integer call() {
      ObjectNode body = JSON.createObjectNode();
      ArrayNode perms = body.putArray("permissions");
      permissions.forEach(perms::add);
      if (label != null) {
        body.put("label", label);
      }
      if (persona != null) {
        body.put("persona", persona);
      }
      if (expiresIn != null) {
        body.put("expiresIn", expiresIn);
      }
      if (maxUses != null) {
        body.put("maxUses", maxUses);
      }
      return call("POST", "/v1/tokens", body, r -> "token " + r.path("id").asText() + " (shown once, keep it safe)\n"
          + "secret: " + r.path("secret").asText() + "\n"
          + (page == null ? "fragment: #" : "link: " + page.replaceAll("#.*$", "") + "#") + r.path("fragment").asText());
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List tokens (never their secrets).")
  static final class TokenList extends ControlCommand {
    @Option(names = "--all", description = "Include revoked tokens.")
    boolean all;

    @Override
    public Integer call() {
      return call("GET", "/v1/tokens" + (all ? "?all=true" : ""), null, r -> lines(r.path("tokens"), t ->
          String.format("%-16s %-24s uses %d%s%s%s  %s", t.path("id").asText(), t.path("label").asText(),
              t.path("uses").asLong(), t.has("maxUses") ? "/" + t.path("maxUses").asLong() : "",
              t.has("expires") ? "  expires " + t.path("expires").asText() : "",
              t.has("revoked") ? "  REVOKED " + t.path("revoked").asText() : "", join(t.path("permissions"))),
          "no tokens"));
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke a token; channels opened with it close at once.")
  static final class TokenRevoke extends ControlCommand {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return call("DELETE", "/v1/tokens/" + encode(id), null, r -> "revoked token " + id);
    }
  }

  @Command(name = "session", mixinStandardHelpOptions = true, description = "List and revoke login sessions.",
      subcommands = {SessionList.class, SessionRevoke.class})
  static final class Session {}

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Live sessions.")
  static final class SessionList extends ControlCommand {
    @Option(names = "--persona", description = "Only this persona's.")
    String persona;

    @Override
    public Integer call() {
      return call("GET", "/v1/sessions" + (persona == null ? "" : "?persona=" + encode(persona)), null,
          r -> lines(r.path("sessions"), s -> String.format("%-16s %-16s %-10s last used %s", s.path("id").asText(),
              s.path("persona").asText(), s.path("label").asText(), s.path("lastUsed").asText()), "no sessions"));
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "End a session at once.")
  static final class SessionRevoke extends ControlCommand {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      return call("DELETE", "/v1/sessions/" + encode(id), null, r -> "revoked session " + id);
    }
  }

  @Command(name = "access-log", mixinStandardHelpOptions = true,
      description = "Who opened what, newest first, with the grant that allowed it.")
  static final class AccessLogCommand extends ControlCommand {
    @Option(names = "--app")
    String app;

    @Option(names = "--persona")
    String persona;

    @Option(names = "--token")
    String token;

    @Option(names = "--since", description = "ISO-8601 instant, e.g. 2026-11-25T00:00:00Z.")
    String since;

    @Option(names = "--until")
    String until;

    @Option(names = "--limit", defaultValue = "50")
    int limit;

    @Override
    public Integer call() {
      StringJoiner q = new StringJoiner("&", "?", "");
      q.add("limit=" + limit);
      addIf(q, "app", app);
      addIf(q, "persona", persona);
      addIf(q, "token", token);
      addIf(q, "since", since);
      addIf(q, "until", until);
      return call("GET", "/v1/access-log" + q, null, r -> lines(r.path("entries"), e -> String.format(
          "%s %-10s %-12s %-6s %-30s %3d %-8s %s", e.path("at").asText(), e.path("app").asText(),
          e.path("persona").isNull() ? (e.path("tokens").isEmpty() ? "-" : "token " + e.path("tokens").get(0).asText())
              : e.path("persona").asText(),
          e.path("method").asText(), e.path("target").asText(), e.path("status").asInt(), e.path("result").asText(),
          e.path("grant").asText()), "no entries"));
    }

    private static void addIf(StringJoiner q, String key, String value) {
      if (value != null) {
        q.add(key + "=" + encode(value));
      }
    }
  }

  private static String join(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(x -> out.add(x.asText()));
    return String.join(" ", out);
  }

  private static String lines(JsonNode array, java.util.function.Function<JsonNode, String> line, String none) {
    if (array.isEmpty()) {
      return none;
    }
    List<String> out = new ArrayList<>();
    array.forEach(x -> out.add(line.apply(x)));
    return String.join("\n", out);
  }
}
