package org.intrustd.appliance.lan;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class PresenceRecordTest {
  private static JsonNode vectors() throws IOException {
    Path file = Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors", "lan-presence.json");
    return new ObjectMapper().readTree(Files.readString(file));
  }

  @Test
  void announcesWhatTheVectorsSay() throws IOException {
    JsonNode all = vectors().path("announce");
    assertThat(all).isNotEmpty();
    for (JsonNode v : all) {
      PresenceRecord r = new PresenceRecord(ApplianceId.parse(v.path("id").asText()).orElseThrow(),
          v.path("name").asText(), v.path("claimed").asBoolean(), v.path("port").asInt());
      List<List<String>> txt = new ArrayList<>();
      r.txt().forEach((k, val) -> txt.add(List.of(k, val)));
      List<List<String>> expected = new ArrayList<>();
      v.path("txt").forEach(e -> expected.add(List.of(e.get(0).asText(), e.get(1).asText())));
      assertThat(txt).as(v.toString()).isEqualTo(expected);
      assertThat(r.instanceName()).as(v.toString()).isEqualTo(v.path("instance").asText());
    }
  }

  @Test
  void readsWhatTheVectorsSay() throws IOException {
    for (JsonNode v : vectors().path("parse")) {
      Map<String, String> txt = new LinkedHashMap<>();
      v.path("txt").properties().forEach(e -> txt.put(e.getKey(), e.getValue().asText()));
      Optional<PresenceRecord> r = PresenceRecord.parse(txt, v.path("instance").asText(), v.path("port").asInt());
      JsonNode a = v.path("appliance");
      if (a.isNull()) {
        assertThat(r).as(v.toString()).isEmpty();
      } else {
        assertThat(r).as(v.toString()).contains(new PresenceRecord(ApplianceId.parse(a.path("id").asText()).orElseThrow(),
            a.path("name").asText(), a.path("claimed").asBoolean(), a.path("port").asInt()));
      }
    }
  }

  @Test
  void everyAnnouncedRecordReadsBackAndFitsItsLimits() {
    ApplianceId id = ApplianceId.fromPublicKey(new byte[32]);
    Property.forAll(500, Gen.strings(64).map(s -> s.isBlank() ? "x" + s : s), Gen.ints(0, 1), (name, claimed) -> {
      PresenceRecord r = new PresenceRecord(id, name, claimed == 1, 7470);
      r.txt().forEach((k, v) -> assertThat((k + "=" + v).getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(255));
      assertThat(r.instanceName().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(63);
      assertThat(name).startsWith(r.instanceName());
      PresenceRecord back = PresenceRecord.parse(r.txt(), r.instanceName(), r.port()).orElseThrow();
      assertThat(back.id()).isEqualTo(id);
      assertThat(back.claimed()).isEqualTo(r.claimed());
    });
  }

  @Test
  void anyTxtANeighbourSendsIsReadOrIgnoredWithoutAnError() {
    Gen<String> keys = Gen.oneOf(Gen.of("txtvers", "id", "name", "claim"), Gen.strings(8));
    Gen<String> values = Gen.oneOf(Gen.of("1", "open", "", ApplianceId.fromPublicKey(new byte[32]).toString()),
        Gen.strings(80));
    Property.forAll(2000, keys.list(6), values.list(6), (ks, vs) -> {
      Map<String, String> txt = new LinkedHashMap<>();
      for (int i = 0; i < Math.min(ks.size(), vs.size()); i++) {
        txt.put(ks.get(i), vs.get(i));
      }
      PresenceRecord.parse(txt, "instance", 7470).ifPresent(r -> {
        assertThat(txt.get("txtvers")).isEqualTo("1");
        assertThat(r.name()).isNotBlank();
      });
    });
  }
}
