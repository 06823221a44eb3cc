package org.intrustd.appliance.bundles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.intrustd.appliance.bundles.Fixtures.key;
import static org.intrustd.appliance.bundles.Fixtures.trust;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Random;
import org.intrustd.appliance.apps.AppManifest;
import org.intrustd.appliance.bundles.BundleException.Reason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Packing, verifying and unpacking whole bundles, and each way a bundle file is refused. */
class BundleTest {
  private static final PublisherKey PUBLISHER = key(0);
  private static final TrustedPublishers TRUST = trust(PUBLISHER);

  @TempDir
  Path dir;

  private Path pack(String id, String version) {
    Path app = Fixtures.app(dir.resolve("src-" + id + "-" + version), id, version);
    Path out = dir.resolve(id + "-" + version + ".itb");
    BundleWriter.write(app, PUBLISHER, out);
    return out;
  }

  private static Reason refusal(Path file, TrustedPublishers trust) {
    try {
      Bundle.verify(file, trust);
    } catch (BundleException e) {
      return e.reason();
    }
    throw new AssertionError(file + " was accepted");
  }

  @Test
  void aPackedAppVerifiesAndUnpacksToTheSameFilesWithOnlyTheExecutableBitKept() throws Exception {
    Path file = pack("hello", "1.2.3");
    Bundle bundle = Bundle.verify(file, TRUST);
    assertThat(bundle.header().appId()).isEqualTo("hello");
    assertThat(bundle.header().version()).isEqualTo("1.2.3");
    assertThat(bundle.header().publisher()).isEqualTo(PUBLISHER.id());

    Path target = dir.resolve("installed/hello");
    AppManifest manifest = bundle.unpack(target);

    assertThat(manifest.id()).isEqualTo("hello");
    assertThat(Files.readString(target.resolve("bin/run"))).isEqualTo("#!/bin/sh\necho hello\n");
    assertThat(Files.readString(target.resolve("share/data.txt"))).isEqualTo("data of hello 1.2.3\n");
    assertThat(Files.isDirectory(target.resolve("share/empty"))).isTrue();
    assertThat(Files.readSymbolicLink(target.resolve("bin/data"))).isEqualTo(Path.of("../share/data.txt"));
    assertThat(mode(target.resolve("bin/run"))).isEqualTo("rwxr-xr-x");
    assertThat(mode(target.resolve("share/data.txt"))).isEqualTo("rw-r--r--");
    assertThat(mode(target)).isEqualTo("rwxr-xr-x");
    assertThat(mode(target.resolve("share/empty"))).isEqualTo("rwxr-xr-x");
    assertThat(Fixtures.list(target.getParent())).containsExactly("hello");
  }

  @Test
  void packingTheSameAppTwiceGivesTheSameBytesWhateverTheTimesAndOtherModeBits() throws Exception {
    Path a = Fixtures.app(dir.resolve("a"), "hello", "1.0.0");
    Path b = Fixtures.app(dir.resolve("b"), "hello", "1.0.0");
    Files.setLastModifiedTime(b.resolve("bin/run"), FileTime.fromMillis(123_456_789));
    Files.setPosixFilePermissions(b.resolve("bin/run"), PosixFilePermissions.fromString("rwx------"));
    Files.setPosixFilePermissions(b.resolve("share/data.txt"), PosixFilePermissions.fromString("r--------"));
    BundleWriter.write(a, PUBLISHER, dir.resolve("a.itb"));
    BundleWriter.write(b, PUBLISHER, dir.resolve("b.itb"));
    BundleWriter.write(a, PUBLISHER, dir.resolve("a2.itb"));
    assertThat(Files.readAllBytes(dir.resolve("a.itb"))).isEqualTo(Files.readAllBytes(dir.resolve("b.itb")))
        .isEqualTo(Files.readAllBytes(dir.resolve("a2.itb")));

    Files.writeString(b.resolve("share/data.txt"), "changed");
    BundleWriter.write(b, PUBLISHER, dir.resolve("b.itb"));
    assertThat(Files.readAllBytes(dir.resolve("a.itb"))).isNotEqualTo(Files.readAllBytes(dir.resolve("b.itb")));
  }

  @Test
  void aBundleFromAnotherPublisherIsRefusedAsUntrusted() {
    Path file = pack("hello", "1.0.0");
    assertThatThrownBy(() -> Bundle.verify(file, trust(key(1))))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNTRUSTED))
        .hasMessageContaining("untrusted publisher").hasMessageContaining(PUBLISHER.id().toString());
    assertThat(refusal(file, TrustedPublishers.of())).isEqualTo(Reason.UNTRUSTED);
  }

  @Test
  void flippingAnyBitOfABundleGetsItRefused() throws Exception {
    byte[] good = Files.readAllBytes(pack("hello", "1.0.0"));
    Path file = dir.resolve("flipped.itb");
    int headerSize = BundleHeader.decode(good).size();
    Random random = new Random(good.length);
    for (int i = 0; i < good.length; i++) {
      byte[] bad = good.clone();
      bad[i] ^= (byte) (1 << random.nextInt(8));
      Fixtures.write(file, bad);
      Reason why = refusal(file, TRUST); // fails the test if the bundle is accepted
      if (i >= headerSize) {
        assertThat(why).as("flip at offset %d, in the payload", i).isEqualTo(Reason.TAMPERED);
      }
    }
  }

  @Test
  void everyTruncationIsRefused() throws Exception {
    byte[] good = Files.readAllBytes(pack("hello", "1.0.0"));
    Path file = dir.resolve("cut.itb");
    for (int n = 1; n < good.length; n++) {
      Fixtures.write(file, Arrays.copyOf(good, n));
      assertThat(refusal(file, TRUST)).as("cut at %d", n).isEqualTo(Reason.TRUNCATED);
    }
    Fixtures.write(file, new byte[0]);
    assertThat(refusal(file, TRUST)).isEqualTo(Reason.NOT_A_BUNDLE);
  }

  @Test
  void bytesAfterThePayloadAreRefused() throws Exception {
    byte[] good = Files.readAllBytes(pack("hello", "1.0.0"));
    Path file = Fixtures.write(dir.resolve("long.itb"), Arrays.copyOf(good, good.length + 1));
    assertThat(refusal(file, TRUST)).isEqualTo(Reason.TAMPERED);
  }

  @Test
  void bareArchivesAndEmptySignaturesAreRefusedAsUnsigned() throws Exception {
    byte[] tar = Fixtures.appTar("hello", "1.0.0", t -> {});
    assertThat(refusal(Fixtures.write(dir.resolve("a.tar"), tar), TRUST)).isEqualTo(Reason.UNSIGNED);
    assertThat(refusal(Fixtures.write(dir.resolve("a.tar.zst"), BundleWriter.compress(tar)), TRUST)).isEqualTo(Reason.UNSIGNED);

    byte[] signed = Fixtures.bundle("hello", "1.0.0", PUBLISHER, tar);
    int sigAt = BundleHeader.decode(signed).size() - 64;
    Arrays.fill(signed, sigAt, sigAt + 64, (byte) 0);
    assertThatThrownBy(() -> Bundle.verify(Fixtures.write(dir.resolve("zero.itb"), signed), TRUST))
        .hasMessageContaining("unsigned");
  }

  @Test
  void otherFilesAndOtherFormatVersionsAreNotBundles() throws Exception {
    assertThat(refusal(Fixtures.write(dir.resolve("x.txt"), "hello world, this is text".getBytes()), TRUST))
        .isEqualTo(Reason.NOT_A_BUNDLE);
    byte[] v2 = Files.readAllBytes(pack("hello", "1.0.0"));
    v2[16] = 2;
    assertThatThrownBy(() -> Bundle.verify(Fixtures.write(dir.resolve("v2.itb"), v2), TRUST))
        .hasMessageContaining("format version 2");
    assertThatThrownBy(() -> Bundle.verify(dir.resolve("missing.itb"), TRUST))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.IO))
        .hasMessageContaining("missing.itb");
  }

  @Test
  void limitsRefuseLargeBundlesBeforeReadingAndLargeContentsWhileUnpacking() {
    Path file = pack("hello", "1.0.0");
    long size = file.toFile().length();
    assertThatThrownBy(() -> Bundle.verify(file, TRUST, new BundleLimits(size - 1, 100, 1 << 20)))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.OVERSIZE));
    Bundle.verify(file, TRUST, new BundleLimits(size, 100, 1 << 20));

    Path out = dir.resolve("out");
    assertThatThrownBy(() -> Bundle.verify(file, TRUST, new BundleLimits(size, 4, 1 << 20)).unpack(out.resolve("a")))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.OVERSIZE))
        .hasMessageContaining("more than 4 entries");
    assertThatThrownBy(() -> Bundle.verify(file, TRUST, new BundleLimits(size, 100, 100)).unpack(out.resolve("b")))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.OVERSIZE))
        .hasMessageContaining("more than 100 bytes");
    assertThat(Fixtures.list(out)).isEmpty();
  }

  @Test
  void aDecompressionBombIsStoppedAtTheLimit() {
    byte[] tar = Fixtures.appTar("hello", "1.0.0", t -> t.file("zeros", 0644, 8L << 20, new java.io.InputStream() {
      long left = 8L << 20;

      @Override
      public int read() {
        return left-- > 0 ? 0 : -1;
      }

      @Override
      public int read(byte[] b, int off, int len) {
        if (left == 0) {
          return -1;
        }
        int n = (int) Math.min(len, left);
        Arrays.fill(b, off, off + n, (byte) 0);
        left -= n;
        return n;
      }
    }));
    Path file = Fixtures.write(dir.resolve("bomb.itb"),
        BundleWriter.bundle("hello", "1.0.0", PUBLISHER, com.github.luben.zstd.Zstd.compress(tar, 1)));
    assertThat(file.toFile().length()).isLessThan(64 * 1024);
    assertThatThrownBy(() -> Bundle.verify(file, TRUST, new BundleLimits(1 << 20, 10, 1 << 20)).unpack(dir.resolve("out/app")))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.OVERSIZE));
    assertThat(Fixtures.list(dir.resolve("out"))).isEmpty();
  }

  @Test
  void aZstdWindowLargerThan8MiBIsRefusedBeforeItsMemoryIsAllocated() throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    try (var z = new com.github.luben.zstd.ZstdOutputStreamNoFinalizer(out, 3).setWindowLog(Bundle.MAX_WINDOW_LOG + 1)) {
      z.write(Fixtures.appTar("hello", "1.0.0", t -> {}));
    }
    Path file = Fixtures.write(dir.resolve("wide.itb"), BundleWriter.bundle("hello", "1.0.0", PUBLISHER, out.toByteArray()));
    assertThatThrownBy(() -> Bundle.verify(file, TRUST).unpack(dir.resolve("out/app")))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INVALID_CONTENT))
        .hasMessageContaining("zstd");
    assertThat(Fixtures.list(dir.resolve("out"))).isEmpty();
  }

  @Test
  void unpackingRefusesAnExistingTarget() throws Exception {
    Bundle bundle = Bundle.verify(pack("hello", "1.0.0"), TRUST);
    Path target = Files.createDirectories(dir.resolve("out/app"));
    assertThatThrownBy(() -> bundle.unpack(target)).hasMessageContaining("already exists");
    assertThat(Fixtures.list(target)).isEmpty();
  }

  @Test
  void aManifestThatDisagreesWithTheSignedHeaderOrIsMissingIsRefusedAndNothingIsLeft() {
    byte[] tar = Fixtures.appTar("hello", "1.0.0", t -> {});
    Path other = Fixtures.write(dir.resolve("other.itb"), Fixtures.bundle("hello", "2.0.0", PUBLISHER, tar));
    assertThatThrownBy(() -> Bundle.verify(other, TRUST).unpack(dir.resolve("out/a")))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INVALID_CONTENT))
        .hasMessageContaining("hello 1.0.0").hasMessageContaining("hello 2.0.0");

    byte[] noManifest = Fixtures.tar(t -> Fixtures.file(t, "bin/run", 0755, "x"));
    Path none = Fixtures.write(dir.resolve("none.itb"), Fixtures.bundle("hello", "1.0.0", PUBLISHER, noManifest));
    assertThatThrownBy(() -> Bundle.verify(none, TRUST).unpack(dir.resolve("out/b"))).hasMessageContaining("no manifest.json");

    byte[] badManifest = Fixtures.tar(t -> Fixtures.file(t, "manifest.json", 0644, "{\"id\": \"hello\"}"));
    Path bad = Fixtures.write(dir.resolve("bad.itb"), Fixtures.bundle("hello", "1.0.0", PUBLISHER, badManifest));
    assertThatThrownBy(() -> Bundle.verify(bad, TRUST).unpack(dir.resolve("out/c")))
        .hasMessageStartingWith("invalid manifest: manifest.json").hasMessageContaining("run.command");
    assertThat(Fixtures.list(dir.resolve("out"))).isEmpty();
  }

  @Test
  void aPayloadSwappedAfterVerificationIsRefusedWhileUnpacking() throws Exception {
    Random random = new Random(7);
    byte[][] payloads = new byte[2][];
    for (int i = 0; i < 2; i++) {
      byte[] noise = new byte[256];
      random.nextBytes(noise);
      String content = java.util.HexFormat.of().formatHex(noise);
      payloads[i] = Fixtures.bundle("hello", "1.0.0", PUBLISHER, Fixtures.appTar("hello", "1.0.0",
          t -> Fixtures.file(t, "noise", 0644, content)));
    }
    assertThat(payloads[0].length).as("same length, so only the digest tells them apart").isEqualTo(payloads[1].length);
    Path file = Fixtures.write(dir.resolve("swap.itb"), payloads[0]);
    Bundle verified = Bundle.verify(file, TRUST);
    int headerSize = verified.header().size();
    byte[] swapped = payloads[0].clone();
    System.arraycopy(payloads[1], headerSize, swapped, headerSize, swapped.length - headerSize);
    Fixtures.write(file, swapped);

    assertThatThrownBy(() -> verified.unpack(dir.resolve("out/app")))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.TAMPERED))
        .hasMessageContaining("changed after it was verified");
    assertThat(Fixtures.list(dir.resolve("out"))).isEmpty();
  }

  @Test
  void packingRefusesLinksThatLeaveTheAppAndBadVersions() throws Exception {
    Path app = Fixtures.app(dir.resolve("app"), "hello", "1.0.0");
    Files.createSymbolicLink(app.resolve("passwd"), Path.of("/etc/passwd"));
    assertThatThrownBy(() -> BundleWriter.write(app, PUBLISHER, dir.resolve("x.itb")))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.INVALID_INPUT))
        .hasMessageContaining("passwd");
    Files.delete(app.resolve("passwd"));
    Files.writeString(app.resolve("manifest.json"), Fixtures.manifest("hello", "1.0+build"));
    assertThatThrownBy(() -> BundleWriter.write(app, PUBLISHER, dir.resolve("x.itb"))).hasMessageContaining("1.0+build");
    assertThat(Files.exists(dir.resolve("x.itb"), LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }
}
