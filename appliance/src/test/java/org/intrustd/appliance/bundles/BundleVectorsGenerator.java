package org.intrustd.appliance.bundles;

import static org.intrustd.appliance.bundles.Fixtures.entry;
import static org.intrustd.appliance.bundles.Fixtures.file;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.intrustd.appliance.bundles.BundleException.Reason;

/**
 * Writes docs/spec/vectors/bundle-format.json and bundle-versions.json. Run by hand when the
 * format changes (Ed25519 and our tar writer are deterministic; the zstd bytes depend on the
 * zstd version); {@link BundleVectorsTest} then holds the code to the files.
 * Usage: BundleVectorsGenerator &lt;docs/spec/vectors dir&gt;
 */
public final class BundleVectorsGenerator {
  static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final JsonNodeFactory J = JsonNodeFactory.instance;

  /** The seeds of identity.md's vectors (signing.json), from index 10 on for bundles. */
  static PublisherKey key(int i) throws Exception {
    return PublisherKey.fromSeed(seed(i));
  }

  /** The app every valid vector packs: [path, type, mode or target, content]. */
  static final List<String[]> FILES = List.of(
      new String[] {"manifest.json", "file", "0644", Fixtures.manifest("hello", "1.0.0")},
      new String[] {"bin", "directory", "0755", ""},
      new String[] {"bin/run", "file", "0755", "#!/bin/sh\nexec python3 -m http.server --directory share\n"},
      new String[] {"bin/data", "symlink", "../share/data.txt", ""},
      new String[] {"share", "directory", "0755", ""},
      new String[] {"share/data.txt", "file", "0644", "Hello from a bundle.\n"});

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    ObjectMapper out = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    out.writeValue(dir.resolve("bundle-format.json").toFile(), format());
    out.writeValue(dir.resolve("bundle-versions.json").toFile(), versions());
  }

  /** Writes FILES under {@code dir}, as an app directory. */
  static Path materialize(Path dir) throws Exception {
    for (String[] f : FILES) {
      Path p = dir.resolve(f[0]);
      switch (f[1]) {
        case "directory" -> Files.createDirectories(p);
        case "symlink" -> Files.createSymbolicLink(p, Path.of(f[2]));
        default -> {
          Files.writeString(p, f[3]);
          Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(f[2].equals("0755") ? "rwxr-xr-x" : "rw-r--r--"));
        }
      }
    }
    return dir;
  }

  private static ObjectNode format() throws Exception {
    PublisherKey publisher = key(10);
    ObjectNode root = J.objectNode();
    root.put("description", "Bundles (bundles.md): a valid one with its parts, a signed repository index listing it,"
        + " and refused ones with the reason and the stage ('verify': header, signature, trust, payload digest;"
        + " 'unpack': archive and manifest) where a reader must refuse them. Trust only 'publisher'.");
    root.putObject("publisher").put("privateKeySeed", B64.encodeToString(seed(10))).put("publicKey", B64.encodeToString(publisher.publicKey()))
        .put("id", publisher.id().toString());

    Path tmp = Files.createTempDirectory("bundle-vectors");
    Path app = materialize(Files.createDirectory(tmp.resolve("app")));
    Path file = tmp.resolve("hello-1.0.0.itb");
    BundleHeader h = BundleWriter.write(app, publisher, file);
    byte[] bundle = Files.readAllBytes(file);
    byte[] payload = Arrays.copyOfRange(bundle, h.size(), bundle.length);

    ObjectNode valid = root.putObject("valid");
    valid.put("file", "hello-1.0.0.itb");
    ArrayNode files = valid.putArray("files");
    for (String[] f : FILES) {
      ObjectNode o = files.addObject().put("path", f[0]).put("type", f[1]);
      switch (f[1]) {
        case "symlink" -> o.put("target", f[2]);
        case "directory" -> o.put("mode", f[2]);
        default -> o.put("mode", f[2]).put("utf8", f[3]);
      }
    }
    valid.put("appId", h.appId()).put("version", h.version()).put("payloadLength", h.payloadLength())
        .put("payloadSha256", B64.encodeToString(h.payloadSha256()))
        .put("signingInput", B64.encodeToString(h.signingInput())).put("signature", B64.encodeToString(h.signature()))
        .put("header", B64.encodeToString(h.encode()))
        .put("tar", B64.encodeToString(UnpackSafetyTest.decompress(payload)))
        .put("bundle", B64.encodeToString(bundle));

    ObjectNode index = root.putObject("index");
    index.put("envelope", new String(RepositoryIndex.encode(List.of(new RepositoryEntry(h.appId(), h.version(),
        "hello-1.0.0.itb", bundle.length, MessageDigest.getInstance("SHA-256").digest(bundle), h.publisherKey())),
        publisher), StandardCharsets.UTF_8));

    ArrayNode invalid = root.putArray("invalid");
    byte[] tar = UnpackSafetyTest.decompress(payload);
    int sig = h.size() - 64;
    refuse(invalid, "empty file", new byte[0], "verify", Reason.NOT_A_BUNDLE);
    refuse(invalid, "a text file", "{\"id\": \"hello\"}\n".getBytes(StandardCharsets.UTF_8), "verify", Reason.NOT_A_BUNDLE);
    refuse(invalid, "format version 2", with(bundle, 16, (byte) 2), "verify", Reason.NOT_A_BUNDLE);
    refuse(invalid, "a bare tar archive", tar, "verify", Reason.UNSIGNED);
    refuse(invalid, "a bare zstd payload", payload, "verify", Reason.UNSIGNED);
    byte[] zeroSig = bundle.clone();
    Arrays.fill(zeroSig, sig, sig + 64, (byte) 0);
    refuse(invalid, "an all-zero signature", zeroSig, "verify", Reason.UNSIGNED);
    refuse(invalid, "a signature bit flipped", with(bundle, sig + 5, (byte) (bundle[sig + 5] ^ 4)), "verify", Reason.BAD_SIGNATURE);
    refuse(invalid, "the app version changed in the header", with(bundle, 18 + 5 + 1 + 4, (byte) '1'), "verify", Reason.BAD_SIGNATURE);
    refuse(invalid, "signed by another key", BundleWriter.bundle("hello", "1.0.0", key(11), payload), "verify", Reason.UNTRUSTED);
    refuse(invalid, "cut inside the header", Arrays.copyOf(bundle, 100), "verify", Reason.TRUNCATED);
    refuse(invalid, "cut inside the payload", Arrays.copyOf(bundle, bundle.length - 1), "verify", Reason.TRUNCATED);
    refuse(invalid, "a byte after the payload", Arrays.copyOf(bundle, bundle.length + 1), "verify", Reason.TAMPERED);
    refuse(invalid, "a payload bit flipped", with(bundle, bundle.length - 3, (byte) (bundle[bundle.length - 3] ^ 1)), "verify",
        Reason.TAMPERED);

    String m = Fixtures.manifest("hello", "1.0.0");
    unsafe(invalid, publisher, "an absolute path", t -> file(t, "/etc/cron.d/x", 0644, "x"), Reason.UNSAFE_ENTRY);
    unsafe(invalid, publisher, "a path with '..'", t -> file(t, "bin/../../x", 0644, "x"), Reason.UNSAFE_ENTRY);
    unsafe(invalid, publisher, "a symbolic link out of the bundle", t -> entry(t, "bin/up", TarEntry.Type.SYMLINK, "../../x"),
        Reason.UNSAFE_ENTRY);
    unsafe(invalid, publisher, "an absolute symbolic link", t -> entry(t, "passwd", TarEntry.Type.SYMLINK, "/etc/passwd"),
        Reason.UNSAFE_ENTRY);
    unsafe(invalid, publisher, "a file below a symbolic link", t -> {
      entry(t, "etc", TarEntry.Type.SYMLINK, "bin");
      file(t, "etc/x", 0644, "x");
    }, Reason.UNSAFE_ENTRY);
    unsafe(invalid, publisher, "a hard link", t -> entry(t, "h", TarEntry.Type.HARDLINK, "manifest.json"), Reason.UNSAFE_ENTRY);
    unsafe(invalid, publisher, "a character device", t -> entry(t, "null", TarEntry.Type.CHAR_DEVICE, ""), Reason.UNSAFE_ENTRY);
    unsafe(invalid, publisher, "a FIFO", t -> entry(t, "fifo", TarEntry.Type.FIFO, ""), Reason.UNSAFE_ENTRY);
    unsafe(invalid, publisher, "the same path twice", t -> file(t, "./manifest.json", 0644, m), Reason.UNSAFE_ENTRY);
    refuse(invalid, "a manifest naming another version than the header", Fixtures.bundle("hello", "1.0.1", publisher,
        Fixtures.appTar("hello", "1.0.0", t -> {})), "unpack", Reason.INVALID_CONTENT);
    refuse(invalid, "no manifest.json", Fixtures.bundle("hello", "1.0.0", publisher,
        Fixtures.tar(t -> file(t, "bin/run", 0755, "x"))), "unpack", Reason.INVALID_CONTENT);
    refuse(invalid, "a payload that is not zstd", BundleWriter.bundle("hello", "1.0.0", publisher, tar), "unpack",
        Reason.INVALID_CONTENT);
    Files.walk(tmp).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    return root;
  }

  private static void unsafe(ArrayNode invalid, PublisherKey key, String why, Fixtures.TarSteps steps, Reason reason) {
    refuse(invalid, why, Fixtures.bundle("hello", "1.0.0", key, Fixtures.appTar("hello", "1.0.0", steps)), "unpack", reason);
  }

  private static void refuse(ArrayNode invalid, String why, byte[] bytes, String stage, Reason reason) {
    invalid.addObject().put("why", why).put("stage", stage).put("reason", reason.name()).put("bundle", B64.encodeToString(bytes));
  }

  private static byte[] with(byte[] b, int at, byte value) {
    byte[] out = b.clone();
    out[at] = value;
    return out;
  }

  private static byte[] seed(int i) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(("intrustd test vector seed " + i).getBytes(StandardCharsets.UTF_8));
  }

  private static ObjectNode versions() {
    ObjectNode root = J.objectNode();
    root.put("description", "Bundle versions (bundles.md 'Versions'): 'ordered' is sorted lowest first; 'invalid' are refused.");
    ArrayNode ordered = root.putArray("ordered");
    for (String v : List.of("0", "0.0.1", "0.9", "0.10", "1-alpha", "1-alpha.1", "1-alpha.beta", "1-beta", "1-beta.2",
        "1-beta.11", "1-rc.1", "1", "1.0", "1.0.0-rc.1", "1.0.0", "1.0.0.1", "1.2.3", "1.10.0", "2.0.0-0", "2.0.0",
        "999999999")) {
      ordered.add(v);
    }
    ArrayNode invalid = root.putArray("invalid");
    for (String v : List.of("", "v1", "1.", ".1", "1..2", "01", "1.02", "1.2.3.4.5", "1.0+build", "1-", "1-a..b", "1-01",
        "1-ü", "1 ", "1234567890", "1-a_b", "1." + "1".repeat(70))) {
      invalid.add(v);
    }
    return root;
  }
}
