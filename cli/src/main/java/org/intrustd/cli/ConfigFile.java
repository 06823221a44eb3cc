package org.intrustd.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * A command's options from a {@code .properties} file: each key is an option's long name
 * without its dashes ({@code port=8480}, {@code tls-cert=/etc/…}), a list is comma-separated
 * ({@code stun=a:3478,b:3478}), and an option given on the command line wins over the file.
 * An unknown key or a value of the wrong kind is a {@link ParameterException} naming the file
 * and the key, never a stack trace.
 */
final class ConfigFile {
  /** Options that make no sense in a file. */
  private static final Set<String> NOT_IN_A_FILE = Set.of("config", "help", "version");

  private ConfigFile() {}

  static void apply(CommandLine cmd, Path file) {
    Properties properties = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      properties.load(in);
    } catch (IOException | IllegalArgumentException e) {
      throw new ParameterException(cmd, "--config: cannot read " + file + ": " + e.getMessage());
    }
    CommandLine.ParseResult given = cmd.getParseResult();
    for (String key : new TreeSet<>(properties.stringPropertyNames())) {
      OptionSpec option = NOT_IN_A_FILE.contains(key) ? null : cmd.getCommandSpec().findOption("--" + key);
      if (option == null || !option.longestName().equals("--" + key)) {
        throw new ParameterException(cmd, file + ": unknown key '" + key + "' (keys are the long options without"
            + " their dashes: see intrustd " + cmd.getCommandName() + " --help)");
      }
      if (given != null && given.hasMatchedOption(option)) {
        continue; // the command line wins
      }
      option.setValue(value(cmd, file, key, option, properties.getProperty(key).strip()));
    }
  }

  private static Object value(CommandLine cmd, Path file, String key, OptionSpec option, String text) {
    if (option.isMultiValue()) {
      List<String> items = new ArrayList<>();
      for (String item : text.split(",")) {
        if (!item.isBlank()) {
          items.add(item.strip());
        }
      }
      return items;
    }
    Class<?> type = option.type();
    if (type == int.class || type == Integer.class) {
      try {
        return Integer.parseInt(text);
      } catch (NumberFormatException e) {
        throw new ParameterException(cmd, file + ": " + key + " is a whole number, not '" + text + "'");
      }
    }
    if (type == boolean.class || type == Boolean.class) {
      if (!text.equals("true") && !text.equals("false")) {
        throw new ParameterException(cmd, file + ": " + key + " is true or false, not '" + text + "'");
      }
      return Boolean.parseBoolean(text);
    }
    if (type == Path.class) {
      if (text.isEmpty()) {
        throw new ParameterException(cmd, file + ": " + key + " names a file");
      }
      return Path.of(text); // relative to the working directory, as on the command line
    }
    if (type == String.class) {
      return text;
    }
    throw new IllegalStateException("no conversion for " + type + " (--" + key + ")");
  }
}
