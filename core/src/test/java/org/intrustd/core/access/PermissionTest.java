package org.intrustd.core.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.TreeMap;
import org.intrustd.core.spec.SpecVectors;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class PermissionTest {
  private static final JsonNode VECTORS = SpecVectors.load("permissions.json");

  @Test
  void validVectorsParseToTheirCanonicalForm() {
    for (JsonNode v : VECTORS.get("valid")) {
      Permission p = Permission.parse(v.get("text").asText());
      assertThat(p.toString()).as(v.get("text").asText()).isEqualTo(v.get("canonical").asText());
      assertThat(Permission.parse(p.toString())).isEqualTo(p);
    }
  }

  @Test
  void invalidVectorsAreRefusedWithAReason() {
    for (JsonNode v : VECTORS.get("invalid")) {
      assertThatThrownBy(() -> Permission.parse(v.get("text").asText())).as(v.get("why").asText())
          .isInstanceOf(IllegalArgumentException.class).hasMessageNotContaining("null");
      assertThat(Permission.tryParse(v.get("text").asText())).isEmpty();
    }
  }

  @Test
  void impliesVectors() {
    for (JsonNode v : VECTORS.get("implies")) {
      Permission held = Permission.parse(v.get("held").asText());
      Permission wanted = Permission.parse(v.get("wanted").asText());
      assertThat(held.implies(wanted)).as(held + " ⇒ " + wanted).isEqualTo(v.get("implies").asBoolean());
    }
  }

  @Test
  void anyValueRoundTripsThroughTheCanonicalForm() {
    Property.forAll(2000, Gen.strings(40), Gen.strings(40), (a, b) -> {
      if (a.isEmpty() || b.isEmpty() || !a.equals(new String(a.getBytes(java.nio.charset.StandardCharsets.UTF_8),
          java.nio.charset.StandardCharsets.UTF_8)) || !b.equals(new String(b.getBytes(
              java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.UTF_8))) {
        return; // lone surrogates have no UTF-8 form
      }
      Permission p = new Permission("photos", "view", Map.of("album", a, "tag", b));
      assertThat(Permission.parse(p.toString())).isEqualTo(p);
      assertThat(p.toString()).matches("intrustd\\+perm://photos/view\\?album=[A-Za-z0-9._~%-]+&tag=[A-Za-z0-9._~%-]+");
    });
  }

  @Test
  void arbitraryTextNeverThrowsAnythingButIllegalArgument() {
    Property.forAll(5000, Gen.oneOf(Gen.strings(80),
        Gen.stringsOf("intrustd+perm:/?&=%abcAF09-", 0, 60).map(s -> "intrustd+perm://" + s)), text -> {
          try {
            Permission p = Permission.parse(text);
            assertThat(Permission.parse(p.toString())).isEqualTo(p);
          } catch (IllegalArgumentException expected) {
            assertThat(expected.getMessage()).isNotBlank();
          }
        });
  }

  @Test
  void narrowingIsTransitiveAndAdminImpliesAll() {
    Property.forAll(500, Gen.stringsOf("ab", 1, 3), Gen.stringsOf("xy", 1, 3), (album, size) -> {
      Permission any = new Permission("photos", "view", Map.of());
      Permission one = new Permission("photos", "view", Map.of("album", album));
      Permission narrower = new Permission("photos", "view", new TreeMap<>(Map.of("album", album, "size", size)));
      assertThat(any.implies(one)).isTrue();
      assertThat(one.implies(narrower)).isTrue();
      assertThat(any.implies(narrower)).isTrue();
      assertThat(narrower.implies(one)).isFalse();
      assertThat(Permission.ADMIN.implies(narrower)).isTrue();
    });
  }
}
