package org.intrustd.appliance.bundles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import org.intrustd.appliance.bundles.BundleException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The code against docs/spec/vectors/bundle-*.json (see {@link BundleVectorsGenerator}). */
class BundleVectorsTest {
  private static final JsonNode FORMAT = load("bundle-format.json");
  private static final Base64.Decoder B64 = Base64.getUrlDecoder();
  private static final TrustedPublishers TRUST = TrustedPublishers.of(bytes(FORMAT.at("/publisher/publicKey")));

  @TempDir
  Path dir;

  static JsonNode load(String name) {
    Path file = Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors", name);
    try {
      return new ObjectMapper().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read spec vector file " + file, e);
    }
  }

  private static byte[] bytes(JsonNode n) {
    return B64.decode(n.asText());
  }

  @Test
  void thePublisherKeyAndIdFollowFromTheSeed() {
    PublisherKey key = PublisherKey.fromSeed(bytes(FORMAT.at("/publisher/privateKeySeed")));
    assertThat(key.publicKey()).isEqualTo(bytes(FORMAT.at("/publisher/publicKey")));
    assertThat(key.id().toString()).isEqualTo(FORMAT.at("/publisher/id").asText());
  }

  @Test
  void theValidBundleHasTheListedPartsAndUnpacksToTheListedFiles() throws Exception {
    JsonNode v = FORMAT.get("valid");
    byte[] bundle = bytes(v.get("bundle"));
    BundleHeader h = Bundle.verify(Fixtures.write(dir.resolve(v.get("file").asText()), bundle), TRUST).header();
    assertThat(h.appId()).isEqualTo(v.get("appId").asText());
    assertThat(h.version()).isEqualTo(v.get("version").asText());
    assertThat(h.payloadLength()).isEqualTo(v.get("payloadLength").asLong());
    assertThat(h.payloadSha256()).isEqualTo(bytes(v.get("payloadSha256")));
    assertThat(h.signingInput()).isEqualTo(bytes(v.get("signingInput")));
    assertThat(h.signature()).isEqualTo(bytes(v.get("signature")));
    assertThat(h.encode()).isEqualTo(bytes(v.get("header")));
    byte[] payload = java.util.Arrays.copyOfRange(bundle, h.size(), bundle.length);
    assertThat(MessageDigest.getInstance("SHA-256").digest(payload)).isEqualTo(h.payloadSha256());
    assertThat(UnpackSafetyTest.decompress(payload)).isEqualTo(bytes(v.get("tar")));

    Path target = dir.resolve("app");
    Bundle.verify(dir.resolve(v.get("file").asText()), TRUST).unpack(target);
    List<String> expected = new ArrayList<>();
    for (JsonNode f : v.get("files")) {
      Path p = target.resolve(f.get("path").asText());
      expected.add(f.get("path").asText());
      switch (f.get("type").asText()) {
        case "symlink" -> assertThat(Files.readSymbolicLink(p).toString()).isEqualTo(f.get("target").asText());
        case "directory" -> assertThat(Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).isTrue();
        default -> {
          assertThat(Files.readString(p)).isEqualTo(f.get("utf8").asText());
          assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p)))
              .isEqualTo(f.get("mode").asText().equals("0755") ? "rwxr-xr-x" : "rw-r--r--");
        }
      }
    }
    try (var walk = Files.walk(target)) {
      assertThat(walk.filter(p -> !p.equals(target)).map(p -> target.relativize(p).toString()))
          .containsExactlyInAnyOrderElementsOf(expected);
    }
  }

  @Test
  void ourWriterPacksTheListedFilesIntoTheListedArchive() throws Exception {
    Path app = BundleVectorsGenerator.materialize(Files.createDirectory(dir.resolve("app")));
    BundleHeader h = BundleWriter.write(app, PublisherKey.fromSeed(bytes(FORMAT.at("/publisher/privateKeySeed"))),
        dir.resolve("b.itb"));
    byte[] bundle = Files.readAllBytes(dir.resolve("b.itb"));
    assertThat(UnpackSafetyTest.decompress(java.util.Arrays.copyOfRange(bundle, h.size(), bundle.length)))
        .isEqualTo(bytes(FORMAT.at("/valid/tar")));
  }

  @Test
  void theSignedIndexListsTheValidBundle() {
    byte[] bundle = bytes(FORMAT.at("/valid/bundle"));
    List<RepositoryEntry> entries = RepositoryIndex.decode(FORMAT.at("/index/envelope").asText().getBytes(StandardCharsets.UTF_8), TRUST);
    assertThat(entries).hasSize(1);
    RepositoryEntry e = entries.get(0);
    assertThat(e.file()).isEqualTo(FORMAT.at("/valid/file").asText());
    assertThat(e.size()).isEqualTo(bundle.length);
    assertThat(e.sha256()).isEqualTo(BundleVectorsTest.sha256(bundle));
    assertThat(e.publisherKey()).isEqualTo(bytes(FORMAT.at("/publisher/publicKey")));
    assertThatThrownBy(() -> RepositoryIndex.decode(FORMAT.at("/index/envelope").asText().getBytes(StandardCharsets.UTF_8),
        TrustedPublishers.of())).isInstanceOfSatisfying(BundleException.class, x -> assertThat(x.reason()).isEqualTo(Reason.UNTRUSTED));
  }

  @Test
  void eachInvalidBundleIsRefusedAtItsStageForItsReason() {
    assertThat(FORMAT.get("invalid")).hasSizeGreaterThan(20);
    int i = 0;
    for (JsonNode v : FORMAT.get("invalid")) {
      String why = v.get("why").asText();
      Path file = Fixtures.write(dir.resolve("invalid-" + i + ".itb"), bytes(v.get("bundle")));
      Path target = dir.resolve("out/" + i++);
      Reason reason = Reason.valueOf(v.get("reason").asText());
      if (v.get("stage").asText().equals("verify")) {
        assertThatThrownBy(() -> Bundle.verify(file, TRUST)).as(why)
            .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).as(why).isEqualTo(reason));
      } else {
        Bundle bundle = Bundle.verify(file, TRUST);
        assertThatThrownBy(() -> bundle.unpack(target)).as(why)
            .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).as(why).isEqualTo(reason));
        assertThat(Fixtures.list(target.getParent())).as(why).isEmpty();
      }
    }
  }

  @Test
  void versionsSortAsListedAndTheInvalidOnesAreRefused() {
    JsonNode versions = load("bundle-versions.json");
    List<String> ordered = new ArrayList<>();
    versions.get("ordered").forEach(n -> ordered.add(n.asText()));
    List<Version> shuffled = new ArrayList<>(ordered.stream().map(s -> Version.parse(s).orElseThrow()).toList());
    Collections.shuffle(shuffled, new java.util.Random(1));
    Collections.sort(shuffled);
    assertThat(shuffled.stream().map(Version::toString)).containsExactlyElementsOf(ordered);
    versions.get("invalid").forEach(n -> assertThat(Version.parse(n.asText())).as(n.asText()).isEmpty());
  }

  static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
