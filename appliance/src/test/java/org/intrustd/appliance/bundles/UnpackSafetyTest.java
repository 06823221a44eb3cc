package org.intrustd.appliance.bundles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.intrustd.appliance.bundles.Fixtures.entry;
import static org.intrustd.appliance.bundles.Fixtures.file;
import static org.intrustd.appliance.bundles.TarEntry.Type.BLOCK_DEVICE;
import static org.intrustd.appliance.bundles.TarEntry.Type.CHAR_DEVICE;
import static org.intrustd.appliance.bundles.TarEntry.Type.FIFO;
import static org.intrustd.appliance.bundles.TarEntry.Type.HARDLINK;
import static org.intrustd.appliance.bundles.TarEntry.Type.OTHER;
import static org.intrustd.appliance.bundles.TarEntry.Type.SYMLINK;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.intrustd.appliance.bundles.BundleException.Reason;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Correctly signed bundles whose archives try to escape or misuse the target directory: each is
 * refused while unpacking, and nothing is written anywhere.
 */
class UnpackSafetyTest {
  private static final PublisherKey PUBLISHER = Fixtures.key(0);

  @TempDir
  Path dir;

  static Stream<Arguments> hostileArchives() {
    return Stream.of(
        Arguments.of("absolute path", (Fixtures.TarSteps) t -> file(t, "/tmp/intrustd-escape", 0644, "x")),
        Arguments.of("parent directory", (Fixtures.TarSteps) t -> file(t, "../escape", 0644, "x")),
        Arguments.of("parent directory deeper", (Fixtures.TarSteps) t -> file(t, "a/b/../../../escape", 0644, "x")),
        Arguments.of("parent directory via pax path", (Fixtures.TarSteps) t -> file(t, "ü/../../escape", 0644, "x")),
        Arguments.of("symlink to an absolute path", (Fixtures.TarSteps) t -> entry(t, "passwd", SYMLINK, "/etc/passwd")),
        Arguments.of("symlink above the root", (Fixtures.TarSteps) t -> entry(t, "up", SYMLINK, "..")),
        Arguments.of("symlink above the root from below", (Fixtures.TarSteps) t -> entry(t, "a/b/up", SYMLINK, "../../../x")),
        Arguments.of("symlink with .. after a name", (Fixtures.TarSteps) t -> {
          entry(t, "self", SYMLINK, "self-target");
          entry(t, "b", SYMLINK, "self/self/../..");
        }),
        Arguments.of("file written through a symlink", (Fixtures.TarSteps) t -> {
          entry(t, "lib", SYMLINK, "share");
          file(t, "lib/x", 0644, "x");
        }),
        Arguments.of("hard link", (Fixtures.TarSteps) t -> entry(t, "passwd", HARDLINK, "/etc/passwd")),
        Arguments.of("hard link inside", (Fixtures.TarSteps) t -> entry(t, "copy", HARDLINK, "manifest.json")),
        Arguments.of("character device", (Fixtures.TarSteps) t -> entry(t, "null", CHAR_DEVICE, "")),
        Arguments.of("block device", (Fixtures.TarSteps) t -> entry(t, "sda", BLOCK_DEVICE, "")),
        Arguments.of("fifo", (Fixtures.TarSteps) t -> entry(t, "pipe", FIFO, "")),
        Arguments.of("unknown type", (Fixtures.TarSteps) t -> entry(t, "sparse", OTHER, "")),
        Arguments.of("duplicate file", (Fixtures.TarSteps) t -> file(t, "manifest.json", 0644, "{}")),
        Arguments.of("duplicate spelled differently", (Fixtures.TarSteps) t -> file(t, "./manifest.json", 0644, "{}")),
        Arguments.of("directory over a file", (Fixtures.TarSteps) t -> t.directory("manifest.json", 0755)),
        Arguments.of("file below a file", (Fixtures.TarSteps) t -> file(t, "manifest.json/x", 0644, "x")),
        Arguments.of("root as a file", (Fixtures.TarSteps) t -> file(t, "./", 0644, "")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileArchives")
  void aHostileEntryIsRefusedAndNothingIsWritten(String why, Fixtures.TarSteps steps) throws IOException {
    Path file = Fixtures.write(dir.resolve("bundle.itb"), Fixtures.bundle("hello", "1.0.0", PUBLISHER,
        Fixtures.appTar("hello", "1.0.0", steps)));
    Bundle bundle = Bundle.verify(file, Fixtures.trust(PUBLISHER));
    Path target = dir.resolve("apps/deep/hello");

    assertThatThrownBy(() -> bundle.unpack(target))
        .isInstanceOfSatisfying(BundleException.class, e -> assertThat(e.reason()).isEqualTo(Reason.UNSAFE_ENTRY))
        .hasMessageStartingWith("unsafe entry: ");
    assertThat(Fixtures.list(target.getParent())).isEmpty();
    assertThat(Fixtures.list(dir)).containsExactly("apps", "bundle.itb");
    assertThat(Files.exists(Path.of("/tmp/intrustd-escape"), LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void modesKeepOnlyTheExecutableBitAndLinksAndImpliedDirectoriesInsideAreFine() throws Exception {
    byte[] tar = Fixtures.appTar("hello", "1.0.0", t -> {
      t.directory("./", 0777);
      file(t, "./bin//setuid", 04755, "x");
      file(t, "bin/setgid", 02640, "x");
      file(t, "deep/er/file", 0600, "x");
      t.directory("deep/er", 01777);
      entry(t, "deep/er/link", SYMLINK, "../../bin/setuid");
      entry(t, "deep/top", SYMLINK, "..");
      entry(t, "sibling", SYMLINK, "deep/er/file");
    });
    Path file = Fixtures.write(dir.resolve("ok.itb"), Fixtures.bundle("hello", "1.0.0", PUBLISHER, tar));
    Path target = dir.resolve("app");
    Bundle.verify(file, Fixtures.trust(PUBLISHER)).unpack(target);

    assertThat(mode(target.resolve("bin/setuid"))).isEqualTo("rwxr-xr-x");
    assertThat(mode(target.resolve("bin/setgid"))).isEqualTo("rw-r--r--");
    assertThat(mode(target.resolve("deep/er/file"))).isEqualTo("rw-r--r--");
    assertThat(mode(target.resolve("deep/er"))).isEqualTo("rwxr-xr-x");
    assertThat(Files.readString(target.resolve("deep/er/link"))).isEqualTo("x");
    assertThat(Files.readString(target.resolve("sibling"))).isEqualTo("x");
    assertThat(target.resolve("deep/top").toRealPath()).isEqualTo(target.toRealPath());
  }

  @Test
  void longAndNonAsciiNamesSurviveTheRoundTrip() throws Exception {
    String longName = "d/" + "n".repeat(120) + "/" + "f".repeat(99);
    String veryLong = "x".repeat(200) + "/y";
    String unicode = "données/ünïcødé ✓.txt";
    byte[] tar = Fixtures.appTar("hello", "1.0.0", t -> {
      file(t, longName, 0644, "1");
      file(t, veryLong, 0644, "2");
      file(t, unicode, 0644, "3");
      entry(t, "link", SYMLINK, longName);
    });
    Path file = Fixtures.write(dir.resolve("ok.itb"), Fixtures.bundle("hello", "1.0.0", PUBLISHER, tar));
    Path target = dir.resolve("app");
    Bundle.verify(file, Fixtures.trust(PUBLISHER)).unpack(target);
    assertThat(Files.readString(target.resolve(longName))).isEqualTo("1");
    assertThat(Files.readString(target.resolve(veryLong))).isEqualTo("2");
    assertThat(Files.readString(target.resolve(unicode))).isEqualTo("3");
    assertThat(Files.readString(target.resolve("link"))).isEqualTo("1");
  }

  @Test
  void gnuTarReadsOurArchivesAndWeReadItsPaxAndGnuArchives() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/tar")), "GNU tar is not installed");
    Path app = Fixtures.app(dir.resolve("app"), "hello", "1.0.0");
    String longName = "l".repeat(130) + ".txt";
    Files.writeString(app.resolve("share").resolve(longName), "long");
    Files.writeString(app.resolve("share/ünï.txt"), "unicode");

    Path ours = dir.resolve("ours.itb");
    BundleHeader h = BundleWriter.write(app, PUBLISHER, ours);
    byte[] bytes = Files.readAllBytes(ours);
    byte[] tar = decompress(java.util.Arrays.copyOfRange(bytes, h.size(), bytes.length));
    String listing = run(tar, "/usr/bin/tar", "-tf", "-");
    assertThat(listing.lines()).contains("manifest.json", "bin/run", "bin/data", "share/" + longName, "share/ünï.txt");

    for (String format : List.of("pax", "gnu")) {
      Path made = dir.resolve(format + ".tar");
      run(new byte[0], "/usr/bin/tar", "--format=" + format, "-C", app.toString(), "-cf", made.toString(), ".");
      Path bundle = Fixtures.write(dir.resolve(format + ".itb"),
          Fixtures.bundle("hello", "1.0.0", PUBLISHER, Files.readAllBytes(made)));
      Path target = dir.resolve("from-" + format);
      Bundle.verify(bundle, Fixtures.trust(PUBLISHER)).unpack(target);
      assertThat(Files.readString(target.resolve("share/" + longName))).isEqualTo("long");
      assertThat(Files.readString(target.resolve("share/ünï.txt"))).isEqualTo("unicode");
      assertThat(Files.readSymbolicLink(target.resolve("bin/data"))).isEqualTo(Path.of("../share/data.txt"));
      assertThat(mode(target.resolve("bin/run"))).isEqualTo("rwxr-xr-x");
    }
  }

  static byte[] decompress(byte[] zstd) throws IOException {
    try (var in = new com.github.luben.zstd.ZstdInputStreamNoFinalizer(new java.io.ByteArrayInputStream(zstd))) {
      return in.readAllBytes();
    }
  }

  private static String run(byte[] stdin, String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    try (var in = p.getOutputStream()) {
      in.write(stdin);
    }
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  private static String mode(Path p) throws IOException {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
  }
}
