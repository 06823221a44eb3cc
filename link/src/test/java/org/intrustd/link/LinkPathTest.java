package org.intrustd.link;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** The path a link takes, by the same rules as the shim's classifyPath (web/shim/test/link.test.js). */
class LinkPathTest {
  @Test
  void classifiesLikeTheShim() {
    assertThat(LinkPath.classify("host", "host", null, "192.168.1.2")).isEqualTo(LinkPath.DIRECT_LAN);
    assertThat(LinkPath.classify("host", "prflx", "198.18.0.1", "198.18.0.2")).as("a LAN browser, seen as prflx")
        .isEqualTo(LinkPath.DIRECT_LAN);
    assertThat(LinkPath.classify("host", "prflx", "10.2.0.2", "198.18.10.2")).isEqualTo(LinkPath.DIRECT_NAT);
    assertThat(LinkPath.classify("host", "host", "10.1.0.2", "10.2.0.2")).as("routed").isEqualTo(LinkPath.DIRECT_NAT);
    assertThat(LinkPath.classify("host", "srflx", "192.168.1.2", "192.168.1.9")).isEqualTo(LinkPath.DIRECT_NAT);
    assertThat(LinkPath.classify("relay", "prflx", "198.18.0.1", "198.18.10.2")).isEqualTo(LinkPath.RELAY);
    assertThat(LinkPath.classify("host", "relay", "10.2.0.2", "198.18.0.1")).isEqualTo(LinkPath.RELAY);
    assertThat(LinkPath.classify("host", "prflx", null, "203.0.113.9")).isEqualTo(LinkPath.DIRECT_NAT);
    assertThat(LinkPath.classify("host", "host", "fd00:1:2:3::1", "fd00:1:2:3:0:0:0:9")).isEqualTo(LinkPath.DIRECT_LAN);
    assertThat(LinkPath.classify("host", "host", "fd00:1:2:3::1", "fd00:1:2:4::9")).isEqualTo(LinkPath.DIRECT_NAT);
    assertThat(LinkPath.classify("host", "host", "x.local", "10.0.0.1")).isEqualTo(LinkPath.DIRECT_LAN);
    assertThat(LinkPath.classify(null, "host", null, null)).isEqualTo(LinkPath.UNKNOWN);
    assertThat(LinkPath.RELAY.label()).isEqualTo("relay");
  }

  @Test
  void readsTheSelectedPairFromAStatsReport() {
    Map<String, Map<String, Object>> stats = new HashMap<>();
    stats.put("T", Map.of("type", "transport", "selectedCandidatePairId", "P2"));
    stats.put("P1", Map.of("type", "candidate-pair", "localCandidateId", "L1", "remoteCandidateId", "R1", "nominated", false,
        "state", "succeeded"));
    stats.put("P2", Map.of("type", "candidate-pair", "localCandidateId", "L2", "remoteCandidateId", "R2", "nominated", true,
        "state", "succeeded"));
    stats.put("L1", Map.of("type", "local-candidate", "candidateType", "host", "address", "10.2.0.2"));
    stats.put("R1", Map.of("type", "remote-candidate", "candidateType", "prflx", "address", "198.18.10.2"));
    stats.put("L2", Map.of("type", "local-candidate", "candidateType", "relay", "address", "198.18.0.1"));
    stats.put("R2", Map.of("type", "remote-candidate", "candidateType", "relay", "address", "198.18.0.1"));
    assertThat(LinkPath.fromStats(stats)).isEqualTo(LinkPath.RELAY);

    stats.remove("T"); // no transport stat: the nominated, succeeded pair
    assertThat(LinkPath.fromStats(stats)).isEqualTo(LinkPath.RELAY);
    stats.put("P2", Map.of("type", "candidate-pair", "localCandidateId", "L2", "remoteCandidateId", "R2", "nominated", false,
        "state", "in-progress"));
    assertThat(LinkPath.fromStats(stats)).as("nothing selected yet").isEqualTo(LinkPath.UNKNOWN);
    assertThat(LinkPath.fromStats(Map.of())).isEqualTo(LinkPath.UNKNOWN);
  }

  @Test
  void anyCandidatesGiveAnAnswerAndRelayWins() {
    Gen<String> types = Gen.of("host", "srflx", "prflx", "relay", "HOST", "", "bogus");
    Gen<String> addresses = Gen.oneOf(Gen.of((String) null, "x.local", "::", "1:2::3:4", "10.0.0.1", "300.1.1.1"),
        Gen.stringsOf("0123456789abcdef:.", 0, 40));
    Property.forAll(3000, r -> new String[] {types.next(r), types.next(r), addresses.next(r), addresses.next(r)}, c -> {
      LinkPath p = LinkPath.classify(c[0], c[1], c[2], c[3]);
      assertThat(p).isNotNull();
      if (c[0].equals("relay") || c[1].equals("relay")) {
        assertThat(p).isEqualTo(LinkPath.RELAY);
      }
    });
  }
}
