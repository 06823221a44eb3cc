package org.intrustd.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The spec's signed-answer vector is accepted, and every kind of tampering with it is refused. */
class AnswerCheckTest {
  private static String offer;
  private static String answer;
  private static byte[] publicKey;
  private static byte[] signature;
  private static ApplianceId id;

  @BeforeAll
  static void load() throws Exception {
    Path file = Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors", "signing.json");
    for (JsonNode v : new ObjectMapper().readTree(Files.readString(file)).path("vectors")) {
      if (v.path("context").asText().equals("intrustd/answer/v1") && v.path("fields").get(0).path("utf8").asText().startsWith("v=0")) {
        offer = v.path("fields").get(0).path("utf8").asText();
        answer = v.path("fields").get(1).path("utf8").asText();
        publicKey = Base64.getUrlDecoder().decode(v.path("publicKey").asText());
        signature = Base64.getUrlDecoder().decode(v.path("signature").asText());
      }
    }
    assertThat(offer).as("an answer vector with SDP in signing.json").isNotNull();
    id = ApplianceId.fromPublicKey(publicKey);
  }

  @Test
  void theVectorIsAccepted() {
    assertThat(AnswerCheck.problem(id, offer, new ClientAnswer("s", id.toString(), publicKey, answer, signature))).isEmpty();
  }

  @Test
  void aSwappedFingerprintIsRefused() {
    String swapped = answer.replace("a=fingerprint:sha-256 22:11", "a=fingerprint:sha-256 33:11");
    assertThat(swapped).isNotEqualTo(answer);
    assertThat(AnswerCheck.problem(id, offer, new ClientAnswer("s", id.toString(), publicKey, swapped, signature)))
        .hasValueSatisfying(p -> assertThat(p).contains("signature"));
  }

  @Test
  void anAnswerToAnotherOfferIsRefused() {
    assertThat(AnswerCheck.problem(id, offer.replace("abcd", "abce"),
        new ClientAnswer("s", id.toString(), publicKey, answer, signature))).isPresent();
  }

  @Test
  void anotherKeyEvenWithItsOwnValidSignatureIsRefused() {
    Identity impostor = new Identity(Ed25519.generate());
    ClientAnswer forged = new ClientAnswer("s", id.toString(), impostor.publicKey(), answer,
        impostor.signAnswer(offer, answer));
    assertThat(AnswerCheck.problem(id, offer, forged)).hasValueSatisfying(p -> assertThat(p).contains("does not hash"));
  }

  @Test
  void anAnswerNamingAnotherApplianceIsRefused() {
    String other = ApplianceId.fromPublicKey(new byte[32]).toString();
    assertThat(AnswerCheck.problem(id, offer, new ClientAnswer("s", other, publicKey, answer, signature)))
        .hasValueSatisfying(p -> assertThat(p).contains("names appliance"));
  }
}
