package org.intrustd.appliance.personas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.intrustd.appliance.personas.PersonaStore.Role;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PersonaStoreTest {
  @TempDir
  Path dir;

  @Test
  void argon2idMatchesTheRfc9106TestVector() {
    // RFC 9106 §5.3: password 32 × 0x01, salt 16 × 0x02, secret 8 × 0x03, associated data 12 × 0x04,
    // 3 passes, 32 KiB, 4 lanes, 32-byte tag.
    byte[] tag = PasswordHasher.argon2id(fill(32, 1), fill(16, 2), 32, 3, 4, 32, fill(8, 3), fill(12, 4));
    assertThat(HexFormat.of().formatHex(tag))
        .isEqualTo("0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659");
  }

  private static byte[] fill(int n, int value) {
    byte[] b = new byte[n];
    java.util.Arrays.fill(b, (byte) value);
    return b;
  }

  @Test
  void hashesAreSaltedAndCarryOwaspParameters() {
    PasswordHasher h = new PasswordHasher();
    String a = h.hash("correct horse");
    String b = h.hash("correct horse");
    assertThat(a).startsWith("$argon2id$v=19$m=19456,t=2,p=1$").isNotEqualTo(b);
    assertThat(h.verify("correct horse", a)).isTrue();
    assertThat(h.verify("correct horsf", a)).isFalse();
    assertThat(h.needsRehash(a)).isFalse();
    assertThat(h.needsRehash("$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")).isTrue();
  }

  @Test
  void malformedOrHostileStoredHashesNeverMatchAndNeverThrow() {
    PasswordHasher h = new PasswordHasher();
    for (String bad : List.of("", "$", "plain", "$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=19456,t=999,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        "$argon2id$v=19$m=19456,t=2,p=1$!!$aGFzaA", "$argon2id$v=19$m=x,t=2,p=1$c2FsdA$aGFzaA")) {
      assertThat(h.verify("password", bad)).as(bad).isFalse();
    }
    Property.forAll(200, Gen.bytes(0, 80), bytes -> assertThat(
        h.verify("password", "$argon2id$v=19$" + new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)))
        .isFalse());
  }

  @Test
  void personasAreKeptInTheDatabaseFile() {
    Path file = dir.resolve("appliance.db");
    try (PersonaStore store = PersonaStore.open(file)) {
      store.create("alice", "Alice", Role.OWNER, "long enough password");
      store.create("bob", "Bob B.", Role.MEMBER, "another password");
    }
    try (PersonaStore store = PersonaStore.open(file)) {
      assertThat(store.list()).extracting(PersonaStore.Persona::name).containsExactly("alice", "bob");
      assertThat(store.owner()).map(PersonaStore.Persona::name).contains("alice");
      assertThat(store.verify("alice", "long enough password")).map(PersonaStore.Persona::role).contains(Role.OWNER);
      assertThat(store.verify("alice", "long enough passwort")).isEmpty();
      assertThat(store.verify("nobody", "long enough password")).isEmpty();
      store.setPassword("bob", "a new password");
      assertThat(store.verify("bob", "another password")).isEmpty();
      assertThat(store.verify("bob", "a new password")).isPresent();
      store.remove("bob");
      assertThat(store.find("bob")).isEmpty();
    }
  }

  @Test
  void refusalsSayWhy() {
    try (PersonaStore store = PersonaStore.open(dir.resolve("appliance.db"))) {
      store.create("alice", "Alice", Role.OWNER, "long enough password");
      assertThatThrownBy(() -> store.create("carol", "Carol", Role.OWNER, "long enough password"))
          .isInstanceOf(PersonaException.class).hasMessage("the appliance already has an owner");
      assertThatThrownBy(() -> store.create("alice", "Alice 2", Role.MEMBER, "long enough password"))
          .hasMessage("a persona named 'alice' exists already");
      assertThatThrownBy(() -> store.create("Bad Name", "x", Role.MEMBER, "long enough password"))
          .hasMessageContaining("a persona name must match");
      assertThatThrownBy(() -> store.create("dave", "Dave", Role.MEMBER, "short"))
          .hasMessage("a password has 8 to 1024 characters");
      assertThatThrownBy(() -> store.remove("alice")).hasMessage("the owner cannot be removed");
      assertThatThrownBy(() -> store.setPassword("nobody", "long enough password"))
          .hasMessage("no persona named 'nobody'");
      assertThatThrownBy(() -> Role.parse("root")).hasMessageContaining("unknown role 'root'");
    }
  }

  @Test
  void concurrentAddsOfTheSameNamesLeaveOnePersonaEach() throws Exception {
    try (PersonaStore store = PersonaStore.open(dir.resolve("appliance.db"));
        ExecutorService pool = Executors.newFixedThreadPool(6)) {
      List<Future<Boolean>> tries = new ArrayList<>();
      for (int i = 0; i < 18; i++) {
        String name = "p" + (i % 3);
        tries.add(pool.submit(() -> {
          try {
            store.create(name, name, Role.MEMBER, "long enough password");
            return true;
          } catch (PersonaException e) {
            return false;
          }
        }));
      }
      long created = 0;
      for (Future<Boolean> f : tries) {
        created += f.get() ? 1 : 0;
      }
      assertThat(created).isEqualTo(3);
      assertThat(store.list()).hasSize(3);
    }
  }

  @Test
  void avatarsAreSmallImagesOfAKnownTypeAndSurviveReopening() {
    byte[] png = new byte[200];
    System.arraycopy(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, 0, png, 0, 8);
    Path file = dir.resolve("appliance.db");
    try (PersonaStore store = PersonaStore.open(file)) {
      store.create("alice", "Alice", PersonaStore.Role.OWNER, "alice's password");
      assertThat(store.avatar("alice")).isEmpty();
      store.setAvatar("alice", png);
      assertThatThrownBy(() -> store.setAvatar("alice", "<svg onload=alert(1)>".getBytes()))
          .hasMessageContaining("PNG, JPEG or WebP");
      assertThatThrownBy(() -> store.setAvatar("alice", java.util.Arrays.copyOf(png, PersonaStore.MAX_AVATAR + 1)))
          .hasMessageContaining("at most 48 KiB");
      assertThatThrownBy(() -> store.setAvatar("nobody", png)).hasMessageContaining("no persona named 'nobody'");
    }
    try (PersonaStore store = PersonaStore.open(file)) {
      assertThat(store.avatar("alice")).hasValueSatisfying(a -> {
        assertThat(a.type()).isEqualTo("image/png");
        assertThat(a.data()).isEqualTo(png);
      });
      store.setAvatar("alice", null);
      assertThat(store.avatar("alice")).isEmpty();
    }
  }
}
