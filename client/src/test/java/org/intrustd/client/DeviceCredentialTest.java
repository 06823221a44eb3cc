package org.intrustd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Signature;
import java.util.Base64;
import java.util.Optional;
import org.intrustd.core.access.SessionProof;
import org.intrustd.core.id.ApplianceId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DeviceCredentialTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  private static ApplianceId anId() throws Exception {
    JsonNode ids = JSON.readTree(Files.readString(
        Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors", "appliance-ids.json")));
    return ApplianceId.parse(ids.get("valid").get(0).get("id").asText()).orElseThrow();
  }

  @Test
  void theSessionIdAndHashAreTheSpecVectors() throws Exception {
    JsonNode cases = JSON.readTree(Files.readString(
        Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors", "device-enrolment.json"))).get("cases");
    for (JsonNode c : cases) {
      DeviceCredential d = new DeviceCredential(anId(), Optional.empty(), "x", DeviceKeys.generate(), c.get("secret").asText());
      assertThat(Base64.getUrlEncoder().withoutPadding().encodeToString(d.sessionHash())).isEqualTo(c.get("sessionHash").asText());
      assertThat(d.sessionId()).isEqualTo(c.get("sessionId").asText());
    }
  }

  @Test
  void savedPrivatelyLoadedIntactAndItsProofVerifies() throws Exception {
    ApplianceId id = anId();
    DeviceCredential d = DeviceCredential.create(id, Optional.of(URI.create("ws://127.0.0.1:1/")), "laptop");
    Path dir = tmp.resolve("devices");
    d.save(dir);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(DeviceCredential.file(dir, id))))
        .isEqualTo("rw-------");
    DeviceCredential back = DeviceCredential.load(dir, id).orElseThrow();
    assertThat(back.secret()).isEqualTo(d.secret());
    assertThat(back.flock()).contains(URI.create("ws://127.0.0.1:1/"));
    assertThat(back.toString()).doesNotContain(d.secret());

    JsonNode resume = JSON.readTree(back.resumption("sha-256 AB:CD"));
    Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
    s.initVerify(d.keys().getPublic());
    s.update(SessionProof.message(id.toString(), "sha-256 AB:CD", d.sessionId()).getBytes());
    assertThat(s.verify(Base64.getUrlDecoder().decode(resume.get("proof").asText()))).isTrue();
    assertThat(resume.get("session").asText()).isEqualTo(d.secret());

    Files.writeString(DeviceCredential.file(dir, id), "{\"privateKey\": \"garbage\"}");
    assertThatThrownBy(() -> DeviceCredential.load(dir, id)).isInstanceOf(ClientException.class).hasMessageContaining("damaged");
    assertThat(DeviceCredential.forget(dir, id)).isTrue();
    assertThat(DeviceCredential.load(dir, id)).isEmpty();
  }
}
