package org.intrustd.core.id;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Base64;
import org.intrustd.core.spec.SpecVectors;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class ApplianceIdTest {
  private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

  @Test
  void specVectorsHashToTheirIdsAndEveryTypedFormParses() {
    JsonNode vectors = SpecVectors.load("appliance-ids.json");
    assertThat(vectors.get("valid")).hasSizeGreaterThan(3);
    for (JsonNode v : vectors.get("valid")) {
      byte[] pub = Base64.getUrlDecoder().decode(v.get("publicKey").asText());
      ApplianceId id = ApplianceId.fromPublicKey(pub);
      assertThat(id.toString()).isEqualTo(v.get("id").asText());
      assertThat(id.matches(pub)).isTrue();
      for (JsonNode typed : v.get("typed")) {
        assertThat(ApplianceId.parse(typed.asText())).as(typed.asText()).contains(id);
      }
    }
  }

  @Test
  void specInvalidVectorsAreRejected() {
    for (JsonNode v : SpecVectors.load("appliance-ids.json").get("invalid")) {
      assertThat(ApplianceId.parse(v.get("text").asText())).as(v.get("why").asText()).isEmpty();
    }
  }

  @Test
  void aPublicKeyOfTheWrongLengthIsRefused() {
    assertThatThrownBy(() -> ApplianceId.fromPublicKey(new byte[31])).hasMessageContaining("32 bytes");
  }

  @Test
  void everyKeyRoundTripsThroughItsDisplayForm() {
    Property.forAll(1000, Gen.bytes(32, 32), key -> {
      ApplianceId id = ApplianceId.fromPublicKey(key);
      assertThat(id.toString()).matches("([A-Z2-7]{7}-){7}[A-Z2-7]{7}");
      assertThat(ApplianceId.parse(id.toString())).contains(id);
      assertThat(id.matches(key)).isTrue();
    });
  }

  @Test
  void anySingleCharacterTypoIsDetected() {
    Property.forAll(2000, Gen.bytes(32, 32), Gen.ints(0, 56 * 31 - 1), (key, k) -> {
      int position = k / 31;
      int shift = 1 + k % 31;
      String compact = ApplianceId.fromPublicKey(key).toString().replace("-", "");
      char typo = ALPHABET.charAt((ALPHABET.indexOf(compact.charAt(position)) + shift) % 32);
      String typed = compact.substring(0, position) + typo + compact.substring(position + 1);
      assertThat(ApplianceId.parse(typed)).isEmpty();
    });
  }

  @Test
  void arbitraryTextNeverThrows() {
    Gen<String> idLike = Gen.oneOf(Gen.strings(300), Gen.stringsOf(ALPHABET + "-018 abc", 50, 70));
    Property.forAll(2000, idLike,
        text -> ApplianceId.parse(text).ifPresent(id -> assertThat(ApplianceId.parse(id.toString())).contains(id)));
  }
}
