package org.intrustd.core.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import org.intrustd.core.spec.SpecVectors;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class SigningTest {
  private static final Base64.Decoder B64 = Base64.getUrlDecoder();

  @Test
  void rfc8032TestVectorOneDerivesTheRightPublicKeyAndSignature() {
    HexFormat hex = HexFormat.of();
    Ed25519.KeyMaterial keys = Ed25519.fromSeed(hex.parseHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
    assertThat(hex.formatHex(keys.publicKey())).isEqualTo("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    assertThat(hex.formatHex(Ed25519.sign(keys.keyPair().getPrivate(), new byte[0]))).isEqualTo(
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  }

  @Test
  void specVectorsHaveTheDocumentedInputsAndSignatures() {
    for (JsonNode v : SpecVectors.load("signing.json").get("vectors")) {
      JsonNode fields = v.get("fields");
      byte[][] raw = new byte[fields.size()][];
      for (int i = 0; i < raw.length; i++) {
        JsonNode f = fields.get(i);
        raw[i] = f.has("utf8") ? f.get("utf8").asText().getBytes(StandardCharsets.UTF_8) : B64.decode(f.get("b64url").asText());
      }
      byte[] input = SigningInput.of(v.get("context").asText(), raw);
      assertThat(input).isEqualTo(B64.decode(v.get("input").asText()));
      Ed25519.KeyMaterial keys = Ed25519.fromSeed(B64.decode(v.get("privateKeySeed").asText()));
      assertThat(keys.publicKey()).isEqualTo(B64.decode(v.get("publicKey").asText()));
      byte[] signature = B64.decode(v.get("signature").asText());
      assertThat(Ed25519.sign(keys.keyPair().getPrivate(), input)).isEqualTo(signature);
      assertThat(Ed25519.verify(keys.publicKey(), input, signature)).isTrue();
    }
  }

  @Test
  void thePeerProofInputIsTheSpecs() {
    for (JsonNode v : SpecVectors.load("signing.json").get("vectors")) {
      if (v.get("context").asText().equals(SigningInput.PEER_V1)) {
        assertThat(SigningInput.peer(v.get("fields").get(0).get("utf8").asText(), v.get("fields").get(1).get("utf8").asText()))
            .isEqualTo(B64.decode(v.get("input").asText()));
        return;
      }
    }
    throw new AssertionError("signing.json has no peer proof vector");
  }

  @Test
  void anAnswerSignatureDoesNotVerifyForAnotherOfferOrContext() {
    Ed25519.KeyMaterial keys = Ed25519.generate();
    byte[] sig = Ed25519.sign(keys.keyPair().getPrivate(), SigningInput.answer("offer", "answer"));
    assertThat(Ed25519.verify(keys.publicKey(), SigningInput.answer("offer", "answer"), sig)).isTrue();
    assertThat(Ed25519.verify(keys.publicKey(), SigningInput.answer("offe", "ranswer"), sig)).isFalse();
    assertThat(Ed25519.verify(keys.publicKey(), SigningInput.answer("other", "answer"), sig)).isFalse();
    assertThat(Ed25519.verify(keys.publicKey(), SigningInput.of(SigningInput.REGISTER_V1,
        "offer".getBytes(StandardCharsets.UTF_8), "answer".getBytes(StandardCharsets.UTF_8)), sig)).isFalse();
  }

  @Test
  void verificationOfGarbageIsFalseNeverAnException() {
    Property.forAll(300, Gen.bytes(0, 40), Gen.bytes(0, 70),
        (key, signature) -> assertThat(Ed25519.verify(key, "message".getBytes(StandardCharsets.UTF_8), signature)).isFalse());
  }
}
