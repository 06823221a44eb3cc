package org.intrustd.appliance.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.intrustd.core.access.Permission;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessStoreTest {
  @TempDir
  Path tmp;

  static AccessStore.TokenSpec spec(String... permissions) {
    return new AccessStore.TokenSpec(java.util.Arrays.stream(permissions).map(Permission::parse).toList(),
        Optional.empty(), "test", "owner", Optional.empty(), Optional.empty(), OptionalLong.empty());
  }

  @Test
  void onlyTheHashIsStoredAndTheSecretRedeemsOnce() throws Exception {
    try (AccessStore store = AccessStore.open(tmp.resolve("a.db"))) {
      AccessStore.MintedToken t = store.mint(new AccessStore.TokenSpec(List.of(Permission.parse("intrustd+perm://p/v")),
          Optional.empty(), "x", "owner", Optional.empty(), Optional.empty(), OptionalLong.of(2)));
      assertThat(t.secret()).matches("it1_[A-Za-z0-9_-]{43}");
      byte[] file = java.nio.file.Files.readAllBytes(tmp.resolve("a.db"));
      byte[] wal = java.nio.file.Files.exists(tmp.resolve("a.db-wal"))
          ? java.nio.file.Files.readAllBytes(tmp.resolve("a.db-wal")) : new byte[0];
      String secretPart = t.secret().substring(4);
      assertThat(new String(file, StandardCharsets.ISO_8859_1) + new String(wal, StandardCharsets.ISO_8859_1))
          .as("the secret is never written to disk").doesNotContain(secretPart);
      assertThat(store.redeem(t.secret(), Instant.now()).uses()).isEqualTo(1);
      assertThat(store.redeem(t.secret(), Instant.now()).uses()).isEqualTo(2);
      assertThatThrownBy(() -> store.redeem(t.secret(), Instant.now())).hasMessageContaining("used its 2 times");
    }
  }

  @Test
  void malformedSecretsAreRefusedNotCrashed() {
    try (AccessStore store = AccessStore.open(tmp.resolve("a.db"))) {
      for (String s : new String[] {"", "it1_", "it1_" + "!".repeat(43), "is1_" + "A".repeat(43), "x".repeat(5000)}) {
        assertThatThrownBy(() -> store.redeem(s, Instant.now())).isInstanceOf(AccessException.class)
            .extracting(e -> ((AccessException) e).status()).isEqualTo(401);
        assertThatThrownBy(() -> store.resume(s, Instant.now())).isInstanceOf(AccessException.class);
      }
    }
  }

  @Test
  void forgettingAPersonaRevokesItsSessionsAndTokensAndDropsItsGrants() {
    try (AccessStore store = AccessStore.open(tmp.resolve("a.db"))) {
      List<String> revocations = new ArrayList<>();
      store.onRevoke(() -> revocations.add("x"));
      store.grant(AccessStore.persona("bob"), Permission.parse("intrustd+perm://p/v"));
      AccessStore.NewSession s = store.createSession("bob", new byte[] {1}, "laptop");
      AccessStore.MintedToken t = store.mint(new AccessStore.TokenSpec(List.of(Permission.parse("intrustd+perm://p/v")),
          Optional.of("bob"), "x", "bob", Optional.of("p"), Optional.empty(), OptionalLong.empty()));
      store.forgetPersona("bob");
      assertThat(store.grantsOf(AccessStore.persona("bob"))).isEmpty();
      assertThat(store.session(s.session().id())).isEmpty();
      assertThat(store.token(t.token().id()).orElseThrow().revoked()).isPresent();
      assertThat(revocations).isNotEmpty();
      assertThatThrownBy(() -> store.resume(s.secret(), Instant.now())).hasMessageContaining("log in again");
    }
  }

  /** Mints tokens until killed, printing each one's secret after its commit. Run by the test below. */
  public static void main(String[] args) {
    AccessStore store = AccessStore.open(Path.of(args[0]));
    for (int i = 0; ; i++) {
      AccessStore.MintedToken t = store.mint(spec("intrustd+perm://p/v?n=" + i));
      System.out.println(t.secret());
      System.out.flush();
    }
  }

  @Test
  void killMinus9WhileMintingLosesNoTokenThatWasReturned() throws Exception {
    Path db = tmp.resolve("kill.db");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process minter = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), AccessStoreTest.class.getName(),
        db.toString()).redirectErrorStream(false).start();
    List<String> secrets = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(minter.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while (secrets.size() < 40 && (line = out.readLine()) != null) {
        if (line.startsWith("it1_")) {
          secrets.add(line);
        }
      }
      minter.destroyForcibly(); // SIGKILL, in the middle of the next mint
      minter.waitFor(10, TimeUnit.SECONDS);
    }
    assertThat(secrets).hasSize(40);
    try (AccessStore store = AccessStore.open(db)) {
      for (String s : secrets) {
        assertThat(store.redeem(s, Instant.now()).permissions()).hasSize(1);
      }
    }
  }
}
