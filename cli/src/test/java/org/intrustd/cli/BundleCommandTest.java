package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.intrustd.core.id.ApplianceId;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BundleCommandTest {
  @TempDir
  Path dir;

  private Path app;

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  @BeforeEach
  void app() throws Exception {
    Files.createDirectories(dir.resolve("app/bin"));
    Files.writeString(dir.resolve("app/manifest.json"),
        "{\"id\": \"hello\", \"version\": \"0.2.0\", \"run\": {\"command\": [\"bin/run\"]}}");
    Files.writeString(dir.resolve("app/bin/run"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(dir.resolve("app/bin/run"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    app = dir.resolve("app");
  }

  @Test
  void keygenPackVerifyAndIndexWorkTogether() throws Exception {
    Run keygen = Run.run("bundle", "keygen", path("pub.key"));
    assertThat(keygen.exit()).as(keygen.err()).isZero();
    assertThat(ApplianceId.parse(keygen.out().strip())).isPresent();
    assertThat(dir.resolve("pub.key.pub")).exists();

    Files.createDirectory(dir.resolve("repo"));
    Run pack = Run.run("bundle", "pack", app.toString(), "--key", path("pub.key"), "-o", path("repo/hello-0.2.0.itb"), "--json");
    assertThat(pack.exit()).as(pack.err()).isZero();
    assertThat(pack.json().get("id").asText()).isEqualTo("hello");
    assertThat(pack.json().get("publisher").asText()).isEqualTo(keygen.out().strip());

    Run verify = Run.run("bundle", "verify", path("repo/hello-0.2.0.itb"), "--trust", path("pub.key.pub"));
    assertThat(verify.exit()).as(verify.err()).isZero();
    assertThat(verify.out()).startsWith("valid: hello 0.2.0");

    Run unpack = Run.run("bundle", "verify", path("repo/hello-0.2.0.itb"), "--trust", path("pub.key.pub"), "--unpack", path("out"));
    assertThat(unpack.exit()).as(unpack.err()).isZero();
    assertThat(dir.resolve("out/bin/run")).isExecutable();

    Run index = Run.run("bundle", "index", path("repo"), "--key", path("pub.key"), "--json");
    assertThat(index.exit()).as(index.err()).isZero();
    assertThat(index.json().get("bundles").get(0).get("file").asText()).isEqualTo("hello-0.2.0.itb");
    assertThat(dir.resolve("repo/index.json")).exists();
  }

  @Test
  void verifyRefusesAnUntrustedOrTamperedBundleWithAReasonAndExitOne() throws Exception {
    Run.run("bundle", "keygen", path("a.key"));
    Run.run("bundle", "keygen", path("b.key"));
    assertThat(Run.run("bundle", "pack", app.toString(), "--key", path("a.key"), "-o", path("hello.itb")).exit()).isZero();

    Run untrusted = Run.run("bundle", "verify", path("hello.itb"), "--trust", path("b.key.pub"));
    assertThat(untrusted.exit()).isEqualTo(1);
    assertThat(untrusted.err()).startsWith("intrustd: untrusted publisher").doesNotContain("Exception");

    Run json = Run.run("bundle", "verify", path("hello.itb"), "--trust", path("b.key.pub"), "--json");
    assertThat(json.exit()).isEqualTo(1);
    assertThat(json.json().get("valid").asBoolean()).isFalse();
    assertThat(json.json().get("reason").asText()).isEqualTo("UNTRUSTED");

    byte[] bytes = Files.readAllBytes(dir.resolve("hello.itb"));
    bytes[bytes.length - 1] ^= 1;
    Files.write(dir.resolve("hello.itb"), bytes);
    Run tampered = Run.run("bundle", "verify", path("hello.itb"), "--trust", path("a.key.pub"));
    assertThat(tampered.exit()).isEqualTo(1);
    assertThat(tampered.err()).contains("tampered");
  }

  @Test
  void mistakesGiveMessagesNotStackTraces() throws Exception {
    Run missingKey = Run.run("bundle", "pack", app.toString(), "-o", path("x.itb"));
    assertThat(missingKey.exit()).isEqualTo(2);
    assertThat(missingKey.err()).contains("--key");

    Run noSuchKey = Run.run("bundle", "pack", app.toString(), "--key", path("nope.key"), "-o", path("x.itb"));
    assertThat(noSuchKey.exit()).isEqualTo(1);
    assertThat(noSuchKey.err()).contains("nope.key").doesNotContain("Exception");

    Run.run("bundle", "keygen", path("k"));
    Run again = Run.run("bundle", "keygen", path("k"));
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("already exists");

    Files.writeString(dir.resolve("app/manifest.json"), "{\"id\": \"Bad Id\"}");
    Run badManifest = Run.run("bundle", "pack", app.toString(), "--key", path("k"), "-o", path("x.itb"));
    assertThat(badManifest.exit()).isEqualTo(1);
    assertThat(badManifest.err()).contains("Bad Id");

    Run notABundle = Run.run("bundle", "verify", path("k.pub"), "--trust", path("k.pub"));
    assertThat(notABundle.exit()).isEqualTo(1);
    assertThat(notABundle.err()).contains("not an Intrustd bundle");

    assertThat(Run.run("bundle").exit()).isEqualTo(2);
  }
}
