package org.intrustd.appliance.bundles;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Garbage in, {@link BundleException} out: random files, damaged bundles, and damaged archives
 * inside correctly signed bundles (so that the archive reader is reached) never make reading
 * throw anything else, and a failed unpack leaves nothing behind.
 */
class BundleFuzzTest {
  private static final PublisherKey PUBLISHER = Fixtures.key(0);
  private static final TrustedPublishers TRUST = Fixtures.trust(PUBLISHER);
  private static final BundleLimits SMALL = new BundleLimits(1 << 20, 200, 1 << 20);
  private static final byte[] TAR = Fixtures.appTar("hello", "1.0.0", t -> {
    Fixtures.file(t, "bin/run", 0755, "#!/bin/sh\n");
    Fixtures.entry(t, "bin/link", TarEntry.Type.SYMLINK, "run");
    Fixtures.file(t, "d/" + "n".repeat(150) + "/file", 0644, "long name");
    Fixtures.file(t, "ünï", 0644, "pax");
  });
  private static final byte[] BUNDLE = Fixtures.bundle("hello", "1.0.0", PUBLISHER, TAR);

  @TempDir
  Path dir;

  private int tries;

  /** Verifies and, when that succeeds, unpacks; only BundleException may come out. */
  private void readAnyway(byte[] bytes) {
    Path file = Fixtures.write(dir.resolve("fuzz.itb"), bytes);
    Path out = dir.resolve("out");
    Path target = out.resolve("app" + tries++);
    try {
      Bundle.verify(file, TRUST, SMALL).unpack(target);
      assertThat(Files.isDirectory(target)).isTrue();
    } catch (BundleException e) {
      assertThat(e.getMessage()).isNotBlank();
      assertThat(Files.exists(target)).isFalse();
    }
    if (Files.isDirectory(out)) {
      assertThat(Arrays.stream(Fixtures.list(out)).filter(n -> n.startsWith("."))).as("temporary directories").isEmpty();
    }
  }

  @Test
  void randomBytesAreRefused() {
    Property.forAll(200, Gen.oneOf(Gen.bytes(0, 600),
        Gen.bytes(0, 300).map(b -> concat(BundleHeader.MAGIC, b)),
        Gen.bytes(0, 300).map(b -> concat(Arrays.copyOf(BUNDLE, 18), b))), this::readAnyway);
  }

  @Test
  void damagedBundlesAreRefused() {
    Property.forAll(200, damage(BUNDLE), this::readAnyway);
  }

  @Test
  void damagedArchivesInsideSignedBundlesYieldOnlyBundleExceptions() {
    Gen<byte[]> signedDamagedTar = damage(TAR).map(tar -> Fixtures.bundle("hello", "1.0.0", PUBLISHER, tar));
    Gen<byte[]> signedGarbage = Gen.bytes(0, 2000).map(b -> BundleWriter.bundle("hello", "1.0.0", PUBLISHER,
        b.length == 0 ? new byte[1] : b));
    Gen<byte[]> signedDamagedZstd = damage(BundleWriter.compress(TAR)).map(z -> BundleWriter.bundle("hello", "1.0.0",
        PUBLISHER, z.length == 0 ? new byte[1] : z));
    Property.forAll(200, Gen.oneOf(signedDamagedTar, signedGarbage, signedDamagedZstd), this::readAnyway);
  }

  /** Flipped bytes, a cut, an inserted run, or a block copied over another (in inputs of two blocks or more). */
  private static Gen<byte[]> damage(byte[] good) {
    return r -> {
      byte[] b = good.clone();
      switch (r.nextInt(b.length >= 1024 ? 4 : 3)) {
        case 0 -> {
          for (int i = 0, n = 1 + r.nextInt(4); i < n; i++) {
            b[r.nextInt(b.length)] ^= (byte) (1 + r.nextInt(255));
          }
        }
        case 1 -> b = Arrays.copyOf(b, r.nextInt(b.length));
        case 2 -> {
          int at = r.nextInt(b.length);
          byte[] run = new byte[1 + r.nextInt(600)];
          r.nextBytes(run);
          b = concat(concat(Arrays.copyOf(b, at), run), Arrays.copyOfRange(good, at, good.length));
        }
        default -> {
          int from = r.nextInt(b.length / 512) * 512;
          int to = r.nextInt(b.length / 512) * 512;
          System.arraycopy(good, from, b, to, Math.min(512, b.length - Math.max(from, to)));
        }
      }
      return b;
    };
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
