package org.intrustd.mail;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Optional;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class MailAddressTest {
    private static JsonNode vectors() throws Exception {
        return new ObjectMapper().readTree(Path.of(System.getProperty("intrustd.spec.dir", "../../docs/spec"), "vectors",
                "mail-addresses.json").toFile());
    }

    @Test
    void theSpecsValidAddressesParseToTheirCanonicalForm() throws Exception {
        for (JsonNode v : vectors().path("valid")) {
            MailAddress a = MailAddress.parse(v.path("text").asText()).orElseThrow(() -> new AssertionError(v.toString()));
            assertThat(a.toString()).as(v.toString()).isEqualTo(v.path("canonical").asText());
            assertThat(a.persona()).isEqualTo(v.path("persona").asText());
            assertThat(a.tag()).isEqualTo(Optional.ofNullable(v.path("tag").textValue()));
            assertThat(a.appliance().toString()).isEqualTo(v.path("appliance").asText());
            assertThat(MailAddress.parse(a.toString())).contains(a);
        }
    }

    @Test
    void theSpecsInvalidAddressesAreRefused() throws Exception {
        for (JsonNode v : vectors().path("invalid")) {
            assertThat(MailAddress.parse(v.path("text").asText())).as(v.path("why").asText()).isEmpty();
        }
    }

    @Test
    void everyAppliancesAddressRoundTrips() {
        Property.forAll(500, Gen.bytes(32, 32), key -> {
            ApplianceId id = ApplianceId.fromPublicKey(key);
            MailAddress a = MailAddress.of("alice", id);
            assertThat(MailAddress.domain(id)).hasSize(63 + ".intrustd".length());
            assertThat(MailAddress.parse(a.toString())).contains(a);
            assertThat(MailAddress.parse(a.toString().toUpperCase(java.util.Locale.ROOT))).contains(a);
        });
    }

    @Test
    void anyTextParsesOrIsRefusedWithoutThrowing() {
        Property.forAll(3_000, Gen.strings(120), text -> {
            Optional<MailAddress> a = MailAddress.parse(text);
            a.ifPresent(x -> assertThat(MailAddress.parse(x.toString())).contains(x));
        });
    }
}
