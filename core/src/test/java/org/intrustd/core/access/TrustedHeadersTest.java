package org.intrustd.core.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.intrustd.core.spec.SpecVectors;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class TrustedHeadersTest {

  @Test
  void specVectorsParseToTheCallerTheyDescribe() {
    for (JsonNode v : SpecVectors.load("trusted-headers.json").get("requests")) {
      Map<String, String> fields = new LinkedHashMap<>();
      v.get("headers").fields().forEachRemaining(e -> fields.put(e.getKey(), e.getValue().asText()));
      TrustedHeaders.Caller c = TrustedHeaders.parse(fields);
      JsonNode want = v.get("caller");
      String why = v.get("why").asText();
      assertThat(c.persona().orElse(null)).as(why).isEqualTo(want.get("persona").isNull() ? null : want.get("persona").asText());
      assertThat(c.role().orElse(null)).as(why).isEqualTo(want.get("role").isNull() ? null : want.get("role").asText());
      List<String> tokens = new ArrayList<>();
      want.get("tokens").forEach(t -> tokens.add(t.asText()));
      assertThat(c.tokens()).as(why).isEqualTo(tokens);
      want.get("has").forEach(p -> assertThat(c.has(p.asText())).as(why + ": has " + p).isTrue());
      want.get("hasNot").forEach(p -> assertThat(c.has(p.asText())).as(why + ": has not " + p).isFalse());
    }
  }

  @Test
  void aRequestWithoutTheApplianceHeaderDidNotComeFromADaemon() {
    assertThatThrownBy(() -> TrustedHeaders.parse(Map.of("X-Intrustd-Persona", "alice")))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("X-Intrustd-Appliance");
  }

  @Test
  void formatThenParseIsTheIdentity() {
    Property.forAll(500, Gen.stringsOf("abcdefghij", 0, 5), Gen.ints(0, 3), (name, n) -> {
      Set<Permission> perms = new java.util.HashSet<>();
      for (int i = 0; i < n; i++) {
        perms.add(new Permission("photos", "view", Map.of("album", name.isEmpty() ? "x" + i : name + i)));
      }
      TrustedHeaders.Caller caller = new TrustedHeaders.Caller("APPLIANCE", Optional.of("l-1"),
          name.isEmpty() ? Optional.empty() : Optional.of(name), name.isEmpty() ? Optional.empty() : Optional.of("member"),
          n == 0 ? List.of() : List.of("t" + n), perms, Optional.empty());
      assertThat(TrustedHeaders.parse(TrustedHeaders.format(caller))).isEqualTo(caller);
    });
  }
}
