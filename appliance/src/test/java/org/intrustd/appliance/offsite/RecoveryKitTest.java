package org.intrustd.appliance.offsite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Optional;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** Recovery kits and claims against docs/spec/vectors/offsite-recovery.json, and kits of any text. */
class RecoveryKitTest {
    static JsonNode vectors() throws Exception {
        return new ObjectMapper().readTree(Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors",
                "offsite-recovery.json").toFile());
    }

    @Test
    void claimsAndVerifiersAreThoseOfTheSpec() throws Exception {
        for (JsonNode v : vectors().get("claims")) {
            byte[] claim = RecoveryKit.claim(v.get("key").asText());
            assertThat(RecoveryKit.hex(claim)).isEqualTo(v.get("claim").asText());
            assertThat(RecoveryKit.hex(RecoveryKit.verifier(claim))).isEqualTo(v.get("verifier").asText());
        }
    }

    @Test
    void kitsOfTheSpecReadAsTheySayAndBadOnesAreRefusedWithWhy() throws Exception {
        for (JsonNode v : vectors().at("/kits/valid")) {
            RecoveryKit kit = RecoveryKit.parse(v.get("text").asText());
            assertThat(kit.appliance()).isEqualTo(v.get("appliance").asText());
            assertThat(kit.friend()).isEqualTo(v.get("friend").isNull() ? Optional.empty() : Optional.of(v.get("friend").asText()));
            assertThat(kit.key()).isEqualTo(v.get("key").asText());
            assertThat(RecoveryKit.parse(kit.text())).as("what text() writes reads back").isEqualTo(kit);
        }
        for (JsonNode v : vectors().at("/kits/invalid")) {
            assertThatThrownBy(() -> RecoveryKit.parse(v.get("text").asText())).as(v.get("why").asText())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("kit");
        }
    }

    @Test
    void anyTextIsReadOrRefusedWithAClearErrorNeverAnythingElse() throws Exception {
        String valid = vectors().at("/kits/valid/0/text").asText();
        Property.forAll(3000, Gen.oneOf(Gen.strings(300), Gen.stringsOf("appliance:friendkey#\n\r -AF2EGSN4", 0, 200),
                Gen.ints(0, valid.length()).map(n -> valid.substring(0, n)),
                Gen.ints(0, valid.length() - 1).map(n -> valid.substring(0, n) + "\u0000:" + valid.substring(n))), text -> {
                    try {
                        RecoveryKit kit = RecoveryKit.parse(text);
                        assertThat(RecoveryKit.parse(kit.text())).isEqualTo(kit);
                    } catch (IllegalArgumentException e) {
                        assertThat(e.getMessage()).isNotBlank();
                    }
                });
        assertThatThrownBy(() -> RecoveryKit.parse("#".repeat(RecoveryKit.MAX_TEXT + 1))).hasMessageContaining("a few lines");
    }
}
