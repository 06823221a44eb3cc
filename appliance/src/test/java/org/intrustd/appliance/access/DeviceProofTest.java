package org.intrustd.appliance.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.intrustd.core.access.SessionProof;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** The session proof of docs/spec/access.md, against the spec's vectors (made with WebCrypto). */
class DeviceProofTest {
  private static JsonNode vectors() throws Exception {
    Path file = Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors", "session-proof.json");
    return new ObjectMapper().readTree(Files.readString(file));
  }

  private static boolean verify(JsonNode v) {
    String message = SessionProof.message(v.get("appliance").asText(), v.get("fingerprint").asText(),
        v.get("sessionId").asText());
    return DeviceProof.verify(Base64.getUrlDecoder().decode(v.get("deviceKey").asText()), message,
        Base64.getUrlDecoder().decode(v.get("proof").asText()));
  }

  @Test
  void theValidVectorVerifiesAndItsMessageIsTheSpecs() throws Exception {
    JsonNode valid = vectors().get("valid");
    assertThat(SessionProof.message(valid.get("appliance").asText(), valid.get("fingerprint").asText(),
        valid.get("sessionId").asText())).isEqualTo(valid.get("message").asText());
    assertThat(verify(valid)).isTrue();
  }

  @Test
  void everyInvalidVectorIsRefused() throws Exception {
    for (JsonNode v : vectors().get("invalid")) {
      assertThat(verify(v)).as(v.get("why").asText()).isFalse();
    }
  }

  @Test
  void keysThatAreNotP256AreRefusedWithAReason() {
    Property.forAll(300, Gen.bytes(0, 120), junk -> assertThatThrownBy(() -> DeviceProof.key(junk))
        .isInstanceOf(AccessException.class).hasMessageContaining("P-256"));
  }
}
