package org.intrustd.core.id;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Base64;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.intrustd.core.spec.SpecVectors;
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

  @Property
  void everyKeyRoundTripsThroughItsDisplayForm(@ForAll @Size(32) byte[] key) {
    ApplianceId id = ApplianceId.fromPublicKey(key);
    assertThat(id.toString()).matches("([A-Z2-7]{7}-){7}[A-Z2-7]{7}");
    assertThat(ApplianceId.parse(id.toString())).contains(id);
    assertThat(id.matches(key)).isTrue();
  }

  @Property
  void anySingleCharacterTypoIsDetected(@ForAll @Size(32) byte[] key, @ForAll @IntRange(max = 55) int position,
      @ForAll @IntRange(min = 1, max = 31) int shift) {
    String compact = ApplianceId.fromPublicKey(key).toString().replace("-", "");
    char typo = ALPHABET.charAt((ALPHABET.indexOf(compact.charAt(position)) + shift) % 32);
    String typed = compact.substring(0, position) + typo + compact.substring(position + 1);
    assertThat(ApplianceId.parse(typed)).isEmpty();
  }

  @Property
  void arbitraryTextNeverThrows(@ForAll("idLike") String text) {
    ApplianceId.parse(text).ifPresent(id -> assertThat(ApplianceId.parse(id.toString())).contains(id));
  }

  @Provide
  Arbitrary<String> idLike() {
    return Arbitraries.oneOf(
        Arbitraries.strings().ofMaxLength(300),
        Arbitraries.strings().withChars(ALPHABET + "-018 abc").ofMinLength(50).ofMaxLength(70));
  }
}
