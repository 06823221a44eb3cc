package org.intrustd.appliance.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import org.intrustd.client.DeviceKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Device enrolment (docs/spec/devices.md): the spec's vectors, and the store's requests and device sessions. */
class DeviceEnrolmentTest {
  @TempDir
  Path tmp;

  private static JsonNode vectors() throws Exception {
    return new ObjectMapper().readTree(Files.readString(
        Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors", "device-enrolment.json")));
  }

  private static byte[] b64(JsonNode n) {
    return Base64.getUrlDecoder().decode(n.asText());
  }

  @Test
  void codesAndSessionIdsAreTheVectors() throws Exception {
    JsonNode v = vectors();
    for (JsonNode c : v.get("cases")) {
      byte[] raw = Base64.getUrlDecoder().decode(c.get("secret").asText().substring(4));
      assertThat(Secrets.sha256(raw)).isEqualTo(b64(c.get("sessionHash")));
      assertThat(Secrets.idOf(b64(c.get("sessionHash")))).isEqualTo(c.get("sessionId").asText());
      assertThat(DeviceCode.of(b64(c.get("deviceKey")), b64(c.get("sessionHash")))).isEqualTo(c.get("code").asText());
    }
    for (JsonNode t : v.get("typed")) {
      assertThat(DeviceCode.normalise(t.get("typed").asText())).isEqualTo(t.get("code").asText());
    }
  }

  private static byte[] hash(int seed) {
    return Secrets.sha256(new byte[] {(byte) seed});
  }

  @Test
  void aRequestWaitsThenItsApprovalIsADeviceSessionThatLastsAYear() {
    byte[] key = DeviceKeys.generate().getPublic().getEncoded();
    Instant now = Instant.now();
    try (AccessStore store = AccessStore.open(tmp.resolve("a.db"))) {
      AccessStore.DeviceRequest r = store.requestDevice(key, hash(1), "laptop", now);
      assertThat(r.id()).isEqualTo(Secrets.idOf(hash(1)));
      assertThat(r.code()).isEqualTo(DeviceCode.of(key, hash(1)));
      assertThat(store.requestDevice(key, hash(1), "laptop", now)).as("asking again is the same request")
          .usingRecursiveComparison().isEqualTo(r);
      byte[] otherKey = DeviceKeys.generate().getPublic().getEncoded();
      assertThatThrownBy(() -> store.requestDevice(otherKey, hash(1), "thief", now)).isInstanceOf(AccessException.class)
          .extracting(e -> ((AccessException) e).status()).isEqualTo(409);

      assertThat(store.deviceRequest(r.code().toLowerCase().replace("-", ""), now)).map(AccessStore.DeviceRequest::id)
          .contains(r.id());
      assertThat(store.deviceRequest(r.id(), now)).map(AccessStore.DeviceRequest::code).contains(r.code());
      assertThat(store.deviceRequest(r.code(), now.plus(AccessStore.REQUEST_WAIT))).as("expired").isEmpty();

      AccessStore.Session device = store.approveDevice(r, "alice");
      assertThat(device.device()).isTrue();
      assertThat(device.id()).isEqualTo(r.id());
      assertThat(device.expires()).isAfter(Instant.now().plus(Duration.ofDays(364)));
      assertThat(store.deviceRequests(now)).isEmpty();
      assertThat(store.sessions(java.util.Optional.of("alice"))).extracting(AccessStore.Session::id).containsExactly(r.id());
      assertThatThrownBy(() -> store.requestDevice(key, hash(1), "laptop", now)).as("that session exists")
          .isInstanceOf(AccessException.class).extracting(e -> ((AccessException) e).status()).isEqualTo(409);
    }
  }

  @Test
  void resumingAWaitingRequestSaysItWaitsAndATurnedDownOneHasEnded() {
    byte[] key = DeviceKeys.generate().getPublic().getEncoded();
    byte[] raw = new byte[32];
    raw[0] = 7;
    String secret = "is1_" + Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    try (AccessStore store = AccessStore.open(tmp.resolve("a.db"))) {
      AccessStore.DeviceRequest r = store.requestDevice(key, Secrets.sha256(raw), "phone", Instant.now());
      assertThatThrownBy(() -> store.resume(secret, Instant.now())).isInstanceOf(AccessException.class)
          .hasMessageContaining("waits for the owner's approval (code " + r.code() + ")")
          .extracting(e -> ((AccessException) e).status()).isEqualTo(403);
      assertThat(store.rejectDevice(r.id())).isTrue();
      assertThat(store.rejectDevice(r.id())).isFalse();
      assertThatThrownBy(() -> store.resume(secret, Instant.now())).isInstanceOf(AccessException.class)
          .extracting(e -> ((AccessException) e).status()).isEqualTo(401);
    }
  }

  @Test
  void aStrangerCannotQueueMoreThanTheCap() {
    byte[] key = DeviceKeys.generate().getPublic().getEncoded();
    Instant now = Instant.now();
    try (AccessStore store = AccessStore.open(tmp.resolve("a.db"))) {
      for (int i = 0; i < AccessStore.MAX_REQUESTS; i++) {
        store.requestDevice(key, hash(i), "spam " + i, now);
      }
      assertThatThrownBy(() -> store.requestDevice(key, hash(1000), "one more", now)).isInstanceOf(AccessException.class)
          .extracting(e -> ((AccessException) e).status()).isEqualTo(429);
      assertThat(store.requestDevice(key, hash(1000), "later", now.plus(AccessStore.REQUEST_WAIT)).label())
          .as("expired requests make room").isEqualTo("later");
    }
  }

  @Test
  void aDatabaseFromBeforeDevicesOpensWithItsSessionsIntact() throws Exception {
    Path file = tmp.resolve("old.db");
    try (var db = DriverManager.getConnection("jdbc:sqlite:" + file); var s = db.createStatement()) {
      s.execute("""
          CREATE TABLE sessions (id TEXT PRIMARY KEY, hash BLOB NOT NULL UNIQUE, persona TEXT NOT NULL,
            device_key BLOB NOT NULL, label TEXT NOT NULL, created_at INTEGER NOT NULL, last_used INTEGER NOT NULL,
            expires_at INTEGER NOT NULL, revoked_at INTEGER)""");
      s.execute("INSERT INTO sessions VALUES ('old', x'01', 'alice', x'02', 'browser', 1, 1, "
          + (System.currentTimeMillis() + 60_000) + ", NULL)");
    }
    try (AccessStore store = AccessStore.open(file)) {
      assertThat(store.session("old")).hasValueSatisfying(s -> assertThat(s.device()).isFalse());
    }
  }
}
