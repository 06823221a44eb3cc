package org.intrustd.appliance.bundles;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.bundles.BundleException.Reason;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.crypto.SigningInput;

/**
 * The signed index of a repository (docs/spec/bundles.md "Repositories"): an envelope whose
 * {@code index} member holds the exact signed bytes, base64url, so that no canonical JSON is
 * needed. The envelope is checked (signature, then trust) before the index inside is parsed.
 * Stateless and thread-safe.
 * <pre>
 * index.json = {"format": "intrustd/repository-index/v1", "signer": key, "index": bytes, "signature": sig}
 *   sig      = Ed25519(signer, SigningInput("intrustd/repository-index/v1", signer key, index bytes))
 *   bytes    = UTF-8 JSON {"bundles": [{"id", "version", "file", "size", "sha256", "publisher"}, ...]}
 * </pre>
 */
public final class RepositoryIndex {
  public static final String CONTEXT = "intrustd/repository-index/v1";
  public static final String FILE = "index.json";
  /** Bundle files the index lists: those with this suffix. */
  public static final String SUFFIX = ".itb";
  static final int MAX_BYTES = 8 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  private RepositoryIndex() {}

  /**
   * Lists every {@code *.itb} bundle in {@code repoDir} (each checked: its signature against the
   * key it names, and its payload) and writes the signed {@code index.json} there, replacing the
   * old one atomically. Returns the entries, sorted by app id, version and file name.
   */
  public static List<RepositoryEntry> write(Path repoDir, PublisherKey key) {
    List<RepositoryEntry> entries = new ArrayList<>();
    try (Stream<Path> files = Files.list(repoDir)) {
      for (Path f : files.filter(f -> f.getFileName().toString().endsWith(SUFFIX) && Files.isRegularFile(f)).sorted().toList()) {
        entries.add(entry(f));
      }
    } catch (IOException e) {
      throw new BundleException(Reason.IO, "cannot list " + repoDir + ": " + Io.why(e), e);
    }
    entries.sort(Comparator.comparing(RepositoryEntry::appId).thenComparing(RepositoryEntry::parsedVersion)
        .thenComparing(RepositoryEntry::file));
    checkUnique(entries);
    Path tmp = repoDir.resolve("." + FILE + ".tmp");
    try {
      Files.write(tmp, encode(entries, key));
      Io.move(tmp, repoDir.resolve(FILE));
    } catch (IOException e) {
      throw new BundleException(Reason.IO, "cannot write " + repoDir.resolve(FILE) + ": " + Io.why(e), e);
    }
    return entries;
  }

  private static RepositoryEntry entry(Path f) throws IOException {
    String name = f.getFileName().toString();
    if (!RepositoryEntry.FILE_NAME.matcher(name).matches()) {
      throw new BundleException(Reason.INVALID_INPUT, name + ": a repository lists only file names made of letters,"
          + " digits, '.', '_' and '-' (at most 128, not starting with '.', '_' or '-')");
    }
    BundleHeader h;
    try {
      h = Bundle.inspect(f, BundleLimits.DEFAULT).header();
    } catch (BundleException e) {
      throw new BundleException(e.reason(), name + ": " + e.getMessage(), e);
    }
    byte[] sha;
    try (InputStream in = Files.newInputStream(f)) {
      sha = Io.sha256(in);
    }
    return new RepositoryEntry(h.appId(), h.version(), name, Files.size(f), sha, h.publisherKey());
  }

  static byte[] encode(List<RepositoryEntry> entries, PublisherKey key) {
    ObjectNode index = JSON.createObjectNode();
    ArrayNode bundles = index.putArray("bundles");
    for (RepositoryEntry e : entries) {
      bundles.addObject().put("id", e.appId()).put("version", e.version()).put("file", e.file()).put("size", e.size())
          .put("sha256", B64.encodeToString(e.sha256())).put("publisher", B64.encodeToString(e.publisherKey()));
    }
    try {
      byte[] bytes = JSON.writeValueAsBytes(index);
      byte[] signer = key.publicKey();
      ObjectNode envelope = JSON.createObjectNode().put("format", CONTEXT).put("signer", B64.encodeToString(signer))
          .put("index", B64.encodeToString(bytes))
          .put("signature", B64.encodeToString(key.sign(SigningInput.of(CONTEXT, signer, bytes))));
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(envelope);
    } catch (JacksonException e) {
      throw new IllegalStateException("cannot write JSON to memory", e);
    }
  }

  /** Checks an index.json and returns its entries; every refusal is a {@link BundleException}. */
  static List<RepositoryEntry> decode(byte[] envelopeBytes, TrustedPublishers trusted) {
    JsonNode envelope = parse(envelopeBytes, "the repository index");
    if (!CONTEXT.equals(envelope.path("format").textValue())) {
      throw new BundleException(Reason.NOT_A_BUNDLE, "not an Intrustd repository index (format is not " + CONTEXT + ")");
    }
    byte[] signer = binary(envelope, "signer", 32, "the index envelope");
    byte[] bytes = binary(envelope, "index", -1, "the index envelope");
    byte[] signature = binary(envelope, "signature", 64, "the index envelope");
    if (!Ed25519.verify(signer, SigningInput.of(CONTEXT, signer, bytes), signature)) {
      throw new BundleException(Reason.BAD_SIGNATURE, "bad signature: the repository index was altered, or not signed by"
          + " the key it names");
    }
    if (!trusted.trusts(signer)) {
      throw new BundleException(Reason.UNTRUSTED, "untrusted publisher: the repository index is signed by "
          + org.intrustd.core.id.ApplianceId.fromPublicKey(signer) + ", which is not trusted");
    }
    JsonNode list = parse(bytes, "the signed index").path("bundles");
    if (!list.isArray()) {
      throw malformed("it has no 'bundles' array");
    }
    List<RepositoryEntry> entries = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      entries.add(entry(list.get(i), "bundles[" + i + "]"));
    }
    checkUnique(entries);
    return List.copyOf(entries);
  }

  private static RepositoryEntry entry(JsonNode n, String where) {
    String id = text(n, "id", where);
    if (!AppManifest.APP_ID.matcher(id).matches()) {
      throw malformed(where + ".id '" + id + "' is not an app id");
    }
    String version = text(n, "version", where);
    if (Version.parse(version).isEmpty()) {
      throw malformed(where + ".version '" + version + "' is not a version");
    }
    String file = text(n, "file", where);
    if (!RepositoryEntry.FILE_NAME.matcher(file).matches()) {
      throw malformed(where + ".file '" + Unpacker.printable(file) + "' is not a plain file name");
    }
    JsonNode size = n.path("size");
    if (!size.canConvertToExactIntegral() || !size.canConvertToLong() || size.longValue() < 1) {
      throw malformed(where + ".size must be a positive integer");
    }
    return new RepositoryEntry(id, version, file, size.longValue(), binary(n, "sha256", 32, where),
        binary(n, "publisher", 32, where));
  }

  private static void checkUnique(List<RepositoryEntry> entries) {
    Set<String> versions = new HashSet<>();
    Set<String> files = new HashSet<>();
    for (RepositoryEntry e : entries) {
      if (!versions.add(e.appId() + " " + e.parsedVersion())) {
        throw malformed("it lists " + e.appId() + " " + e.version() + " twice");
      }
      if (!files.add(e.file())) {
        throw malformed("it lists the file " + e.file() + " twice");
      }
    }
  }

  private static JsonNode parse(byte[] bytes, String what) {
    try {
      JsonNode n = JSON.readTree(bytes);
      if (n == null || !n.isObject()) {
        throw malformed(what + " is not a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw malformed(what + " is not valid JSON");
    }
  }

  private static String text(JsonNode n, String field, String where) {
    JsonNode v = n.path(field);
    if (!v.isTextual()) {
      throw malformed(where + "." + field + " must be a string");
    }
    return v.textValue();
  }

  /** A base64url member; {@code length} -1 for any length. */
  private static byte[] binary(JsonNode n, String field, int length, String where) {
    byte[] b;
    try {
      b = Base64.getUrlDecoder().decode(text(n, field, where));
    } catch (IllegalArgumentException e) {
      throw malformed(where + "." + field + " is not base64url");
    }
    if (length >= 0 && b.length != length) {
      throw malformed(where + "." + field + " must be " + length + " bytes");
    }
    return b;
  }

  private static BundleException malformed(String why) {
    return new BundleException(Reason.INVALID_INPUT, "malformed repository index: " + why);
  }
}
