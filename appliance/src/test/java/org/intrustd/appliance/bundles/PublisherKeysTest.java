package org.intrustd.appliance.bundles;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.intrustd.core.id.ApplianceId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublisherKeysTest {
  @TempDir
  Path dir;

  @Test
  void aSavedKeyLoadsBackPrivatelyAndItsPublicFileIsTrusted() throws Exception {
    PublisherKey key = PublisherKey.generate();
    key.save(dir.resolve("p.key"));
    key.savePublic(dir.resolve("p.key.pub"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("p.key")))).isEqualTo("rw-------");
    assertThat(PublisherKey.load(dir.resolve("p.key")).publicKey()).isEqualTo(key.publicKey());
    assertThat(Files.readString(dir.resolve("p.key.pub"))).contains(key.id().toString());

    TrustedPublishers trust = TrustedPublishers.load(dir.resolve("p.key.pub"));
    assertThat(trust.trusts(key.publicKey())).isTrue();
    assertThat(trust.trusts(PublisherKey.generate().publicKey())).isFalse();
    assertThat(trust.ids()).containsExactly(key.id());
    assertThat(ApplianceId.parse(key.id().toString())).contains(key.id());
  }

  @Test
  void savingNeverReplacesAnExistingKey() throws Exception {
    Files.writeString(dir.resolve("p.key"), "precious");
    assertThatThrownBy(() -> PublisherKey.generate().save(dir.resolve("p.key"))).hasMessageContaining("already exists");
    assertThat(Files.readString(dir.resolve("p.key"))).isEqualTo("precious");
    assertThat(Fixtures.list(dir)).containsExactly("p.key");
  }

  @Test
  void aTrustDirectoryLoadsEveryKeyAndSkipsDotFiles() throws Exception {
    Fixtures.key(1).savePublic(dir.resolve("one.pub"));
    Fixtures.key(2).savePublic(dir.resolve("two"));
    Files.writeString(dir.resolve(".editor-swap"), "not a key");
    Files.createDirectory(dir.resolve("subdir"));
    TrustedPublishers trust = TrustedPublishers.load(dir);
    assertThat(trust.ids()).containsExactlyInAnyOrder(Fixtures.key(1).id(), Fixtures.key(2).id());
    assertThat(TrustedPublishers.load(dir.resolve("subdir")).ids()).isEmpty();
  }

  @Test
  void aBadFileInTheTrustDirectoryFailsTheLoadNamingTheFile() throws Exception {
    Fixtures.key(1).savePublic(dir.resolve("good.pub"));
    Files.writeString(dir.resolve("bad.pub"), "intrustd-ed25519-public-v1 not*base64\n");
    assertThatThrownBy(() -> TrustedPublishers.load(dir)).hasMessageContaining("bad.pub").hasMessageContaining("base64url");

    Files.writeString(dir.resolve("bad.pub"), "intrustd-ed25519-public-v1 AAAA\n");
    assertThatThrownBy(() -> TrustedPublishers.load(dir)).hasMessageContaining("bad.pub").hasMessageContaining("3 bytes, not 32");

    Files.delete(dir.resolve("bad.pub"));
    Fixtures.key(3).save(dir.resolve("secret.key"));
    assertThatThrownBy(() -> TrustedPublishers.load(dir)).hasMessageContaining("secret.key").hasMessageContaining("secret key");

    Files.delete(dir.resolve("secret.key"));
    Files.writeString(dir.resolve("two.pub"), Files.readString(dir.resolve("good.pub")).repeat(2));
    assertThatThrownBy(() -> TrustedPublishers.load(dir)).hasMessageContaining("two.pub").hasMessageContaining("more than one");

    assertThatThrownBy(() -> PublisherKey.load(dir.resolve("good.pub"))).hasMessageContaining("good.pub")
        .hasMessageContaining("public key, not a secret key");
    assertThatThrownBy(() -> PublisherKey.load(dir.resolve("missing"))).hasMessageContaining("missing");
  }
}
