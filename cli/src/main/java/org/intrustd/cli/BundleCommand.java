package org.intrustd.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.bundles.Bundle;
import org.intrustd.appliance.bundles.BundleException;
import org.intrustd.appliance.bundles.BundleHeader;
import org.intrustd.appliance.bundles.BundleWriter;
import org.intrustd.appliance.bundles.PublisherKey;
import org.intrustd.appliance.bundles.RepositoryEntry;
import org.intrustd.appliance.bundles.RepositoryIndex;
import org.intrustd.appliance.bundles.TrustedPublishers;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code intrustd bundle}: publisher tools for signed app bundles (docs/spec/bundles.md). Exit
 * codes: 0 done (or valid), 1 refused or failed with a message, 2 bad usage.
 */
@Command(name = "bundle", mixinStandardHelpOptions = true,
    description = "Create publisher keys; pack, sign and verify app bundles; write a repository's signed index.",
    subcommands = {BundleCommand.Keygen.class, BundleCommand.Pack.class, BundleCommand.Verify.class, BundleCommand.Index.class})
final class BundleCommand {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  /** What every subcommand shares: {@code --json} and where output goes. */
  abstract static class Output {
    @Option(names = "--json", description = "Print the result as one JSON object.")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** Prints {@code text}, or {@code fields} as JSON with --json. */
    void print(String text, Map<String, Object> fields) {
      PrintWriter out = spec.commandLine().getOut();
      try {
        out.println(json ? JSON.writeValueAsString(fields) : text);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot write JSON", e);
      }
      out.flush();
    }
  }

  @Command(name = "keygen", mixinStandardHelpOptions = true,
      description = "Create a publisher key in KEYFILE (secret, mode 0600) and KEYFILE.pub (the key appliances trust);"
          + " print the publisher ID.")
  static final class Keygen extends Output implements Callable<Integer> {
    @Parameters(paramLabel = "KEYFILE", description = "The secret key file to create; it must not exist.")
    Path keyFile;

    @Override
    public Integer call() {
      Path pub = keyFile.resolveSibling(keyFile.getFileName() + ".pub");
      for (Path p : List.of(keyFile, pub)) {
        if (Files.exists(p)) {
          throw new BundleException(BundleException.Reason.INVALID_INPUT, p + " already exists; not replacing it");
        }
      }
      PublisherKey key = PublisherKey.generate();
      key.save(keyFile);
      key.savePublic(pub);
      print(key.id().toString(), fields("publisher", key.id().toString(), "key", keyFile.toString(), "publicKey", pub.toString()));
      return 0;
    }
  }

  @Command(name = "pack", mixinStandardHelpOptions = true,
      description = "Pack APP-DIR (with its manifest.json) into a bundle signed with the publisher key.")
  static final class Pack extends Output implements Callable<Integer> {
    @Parameters(paramLabel = "APP-DIR", description = "The app directory; manifest.json at its top.")
    Path appDir;

    @Option(names = "--key", required = true, paramLabel = "KEYFILE", description = "The publisher's secret key file.")
    Path key;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "The bundle to write, e.g. hello-0.1.0.itb.")
    Path output;

    @Override
    public Integer call() throws IOException {
      BundleHeader h = BundleWriter.write(appDir, PublisherKey.load(key), output);
      long size = Files.size(output);
      print("packed " + h.appId() + " " + h.version() + " into " + output + " (" + size + " bytes), signed by " + h.publisher(),
          fields("file", output.toString(), "id", h.appId(), "version", h.version(), "publisher", h.publisher().toString(),
              "size", size));
      return 0;
    }
  }

  @Command(name = "verify", mixinStandardHelpOptions = true,
      description = "Check a bundle: signed by a trusted publisher, not altered, and unpacking safely with a valid manifest."
          + " Exit 0 when valid, 1 with the reason otherwise.")
  static final class Verify extends Output implements Callable<Integer> {
    @Parameters(paramLabel = "BUNDLE")
    Path file;

    @Option(names = "--trust", required = true, paramLabel = "DIR|KEYFILE",
        description = "A public key file (.pub), or a directory of them: the publishers to trust.")
    Path trust;

    @Option(names = "--unpack", paramLabel = "DIR", description = "Keep the unpacked app in DIR (which must not exist).")
    Path unpackTo;

    @Override
    public Integer call() throws IOException {
      try {
        Bundle bundle = Bundle.verify(file, TrustedPublishers.load(trust));
        AppManifest manifest = unpackTo != null ? bundle.unpack(unpackTo) : trialUnpack(bundle);
        BundleHeader h = bundle.header();
        print("valid: " + h.appId() + " " + h.version() + " (" + manifest.name() + "), signed by " + h.publisher(),
            fields("valid", true, "id", h.appId(), "version", h.version(), "publisher", h.publisher().toString()));
        return 0;
      } catch (BundleException e) {
        if (!json) {
          throw e;
        }
        print("", fields("valid", false, "reason", e.reason().name(), "message", e.getMessage()));
        return 1;
      }
    }

    /** Unpacks into a temporary directory and removes it: only unpacking proves the archive safe. */
    private static AppManifest trialUnpack(Bundle bundle) throws IOException {
      Path tmp = Files.createTempDirectory("intrustd-verify-");
      try {
        return bundle.unpack(tmp.resolve("app"));
      } finally {
        try (var walk = Files.walk(tmp)) {
          for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        }
      }
    }
  }

  @Command(name = "index", mixinStandardHelpOptions = true,
      description = "Write REPO-DIR/index.json: the signed list of the bundles (*.itb) in REPO-DIR.")
  static final class Index extends Output implements Callable<Integer> {
    @Parameters(paramLabel = "REPO-DIR")
    Path repoDir;

    @Option(names = "--key", required = true, paramLabel = "KEYFILE", description = "The secret key that signs the index.")
    Path key;

    @Override
    public Integer call() {
      PublisherKey signer = PublisherKey.load(key);
      List<RepositoryEntry> entries = RepositoryIndex.write(repoDir, signer);
      StringBuilder text = new StringBuilder();
      for (RepositoryEntry e : entries) {
        text.append(e.appId()).append(' ').append(e.version()).append("  ").append(e.file()).append("  ")
            .append(e.size()).append(" bytes  by ").append(e.publisher()).append('\n');
      }
      text.append("wrote ").append(repoDir.resolve(RepositoryIndex.FILE)).append(" listing ").append(entries.size())
          .append(" bundles, signed by ").append(signer.id());
      List<Map<String, Object>> bundles = entries.stream().map(e -> fields("id", e.appId(), "version", e.version(),
          "file", e.file(), "size", e.size(), "sha256", B64.encodeToString(e.sha256()), "publisher", e.publisher().toString()))
          .toList();
      print(text.toString(), fields("index", repoDir.resolve(RepositoryIndex.FILE).toString(), "signer", signer.id().toString(),
          "bundles", bundles));
      return 0;
    }
  }

  /** An ordered map from alternating keys and values, so JSON output keeps a stable order. */
  static Map<String, Object> fields(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }
}
