package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code intrustd persona ...}: the appliance's users, managed locally by the owner through the
 * control socket (the first-run claim through the admin app comes later). Passwords are read
 * from the terminal or, with {@code --password-stdin}, from standard input: never from the
 * command line, where other users could see them.
 */
@Command(name = "persona", mixinStandardHelpOptions = true,
    description = "List, add and remove the appliance's personas (its users) and change their passwords.",
    subcommands = {PersonaCommand.ListPersonas.class, PersonaCommand.Add.class, PersonaCommand.Passwd.class,
        PersonaCommand.Remove.class, PersonaCommand.Avatar.class})
final class PersonaCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  static String describe(JsonNode p) {
    return String.format("%-24s %-8s %s", p.path("name").asText(), p.path("role").asText(), p.path("displayName").asText());
  }

  /** Commands that take a new password. */
  abstract static class WithPassword extends ControlCommand {
    @Option(names = "--password-stdin", description = "Read the password from the first line of standard input.")
    boolean passwordStdin;

    String password() {
      return Passwords.newPassword(spec.commandLine(), passwordStdin);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List the personas.")
  static final class ListPersonas extends ControlCommand {
    @Override
    public Integer call() {
      return call("GET", "/v1/personas", null, body -> {
        StringBuilder out = new StringBuilder(String.format("%-24s %-8s %s", "PERSONA", "ROLE", "NAME"));
        body.path("personas").forEach(p -> out.append('\n').append(describe(p)));
        return out.toString();
      });
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true, description = "Add a persona.")
  static final class Add extends WithPassword {
    @Parameters(paramLabel = "NAME", description = "The name to log in with: a-z, 0-9, '.', '_', '-'.")
    String name;

    @Option(names = "--display-name", description = "The name people see (default: NAME).")
    String displayName;

    @Option(names = "--role", description = "owner, admin or member (default: ${DEFAULT-VALUE}).", defaultValue = "member")
    String role;

    @Override
    public Integer call() {
      var body = JSON.createObjectNode().put("name", name).put("role", role).put("password", password());
      if (displayName != null) {
        body.put("displayName", displayName);
      }
      return call("POST", "/v1/personas", body, PersonaCommand::describe);
    }
  }

  @Command(name = "passwd", mixinStandardHelpOptions = true, description = "Change a persona's password.")
  static final class Passwd extends WithPassword {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      return call("POST", "/v1/personas/" + encode(name) + "/password",
          JSON.createObjectNode().put("password", password()), p -> "password changed for " + name);
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true, description = "Remove a persona (not the owner).")
  static final class Remove extends ControlCommand {
    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() {
      return call("DELETE", "/v1/personas/" + encode(name), null, p -> "removed " + name);
    }
  }

  @Command(name = "avatar", mixinStandardHelpOptions = true,
      description = "Set a persona's picture (PNG, JPEG or WebP, at most 48 KiB), or remove it.")
  static final class Avatar extends ControlCommand {
    @Parameters(index = "0", paramLabel = "NAME")
    String name;

    @Parameters(index = "1", paramLabel = "FILE", arity = "0..1")
    java.nio.file.Path file;

    @Option(names = "--remove", description = "Remove the picture.")
    boolean remove;

    @Override
    public Integer call() {
      if (remove == (file != null)) {
        throw new ParameterException(spec.commandLine(), "give a FILE, or --remove");
      }
      if (remove) {
        return call("DELETE", "/v1/personas/" + encode(name) + "/avatar", null, p -> "removed the picture of " + name);
      }
      byte[] image;
      try {
        image = java.nio.file.Files.readAllBytes(file);
      } catch (IOException e) {
        throw new ParameterException(spec.commandLine(), "cannot read " + file + ": " + e.getMessage());
      }
      var body = JSON.createObjectNode().put("data", java.util.Base64.getEncoder().encodeToString(image));
      return call("PUT", "/v1/personas/" + encode(name) + "/avatar", body, p -> "set the picture of " + name);
    }
  }
}
