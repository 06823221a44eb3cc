package org.intrustd.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/** Passwords come from the terminal or standard input, never from the command line (ps would show them). */
final class Passwords {
  /** Where a script puts the password a remote command logs in with. */
  static final String LOGIN_ENV = "INTRUSTD_PASSWORD";

  private Passwords() { }

  /** A new password: the first line of standard input with {@code fromStdin}, else asked twice on the terminal. */
  static String newPassword(CommandLine cl, boolean fromStdin) {
    if (fromStdin) {
      try {
        String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        if (line == null || line.isEmpty()) {
          throw new ParameterException(cl, "no password on standard input");
        }
        return line;
      } catch (IOException e) {
        throw new ParameterException(cl, "cannot read standard input: " + e.getMessage());
      }
    }
    java.io.Console console = System.console();
    if (console == null) {
      throw new ParameterException(cl, "no terminal to ask for the password: use --password-stdin");
    }
    char[] first = console.readPassword("password: ");
    char[] again = console.readPassword("again: ");
    if (first == null || again == null || !Arrays.equals(first, again)) {
      throw new ParameterException(cl, "the two passwords differ");
    }
    return new String(first);
  }

  /** The password to log in with: {@code $INTRUSTD_PASSWORD}, else asked once on the terminal. */
  static String loginPassword(CommandLine cl, String prompt) {
    String fromEnv = System.getenv(LOGIN_ENV);
    if (fromEnv != null && !fromEnv.isEmpty()) {
      return fromEnv;
    }
    java.io.Console console = System.console();
    if (console == null) {
      throw new ParameterException(cl, "no terminal to ask for the password: set " + LOGIN_ENV);
    }
    char[] password = console.readPassword("%s", prompt);
    if (password == null || password.length == 0) {
      throw new ParameterException(cl, "no password given");
    }
    return new String(password);
  }
}
