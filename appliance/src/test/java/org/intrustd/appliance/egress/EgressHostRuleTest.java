package org.intrustd.appliance.egress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import java.util.OptionalInt;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The owner's host rules: syntax, canonical form, and fuzzing of the parser. */
class EgressHostRuleTest {

  @Test
  void theFourKindsOfHostAndBothKindsOfPortParse() throws Exception {
    assertThat(HostRule.parse("example.com:443"))
        .isEqualTo(new HostRule(new HostRule.Host.Name("example.com"), OptionalInt.of(443)));
    assertThat(HostRule.parse("*.example.org:443"))
        .isEqualTo(new HostRule(new HostRule.Host.Subdomains("example.org"), OptionalInt.of(443)));
    assertThat(HostRule.parse("198.18.0.5:*"))
        .isEqualTo(new HostRule(new HostRule.Host.Address(InetAddress.getByName("198.18.0.5")), OptionalInt.empty()));
    assertThat(HostRule.parse("[::1]:8080"))
        .isEqualTo(new HostRule(new HostRule.Host.Address(InetAddress.getByName("::1")), OptionalInt.of(8080)));
    assertThat(HostRule.parse("*:443")).isEqualTo(new HostRule(new HostRule.Host.Any(), OptionalInt.of(443)));
  }

  @ParameterizedTest
  @CsvSource({
    "Example.COM:443, example.com:443",
    "example.com.:443, example.com:443",
    "[2001:DB8:0:0:0:0:0:1]:443, [2001:db8::1]:443",
    "[2001:db8:0:0:1:0:0:1]:1, [2001:db8::1:0:0:1]:1",
    "[0:0:0:0:0:0:0:0]:1, [::]:1",
    "[::ffff:192.0.2.1]:443, 192.0.2.1:443",
    "[fe80:0:0:0:0:0:0:0]:65535, [fe80::]:65535",
  })
  void rulesAreWrittenBackInOneCanonicalForm(String text, String canonical) {
    assertThat(HostRule.parse(text)).hasToString(canonical);
    assertThat(HostRule.parse(canonical)).isEqualTo(HostRule.parse(text));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", ":", "example.com", "example.com:", "example.com:0", "example.com:65536", "example.com:08",
    "example.com:https", "example.com:443:1", "::1:443", "[::1]", "[::1]443", "[::1:443", "[::1%lo]:443",
    "[1.2.3.4]:443", "1.2.3:443", "1.2.3.256:443", "01.2.3.4:443", "127.1:443", "2130706433:80", "a.123:80",
    "0x7f000001:80", "0x7f.0.0.1:80",
    "*example.com:443", "ex*ample.com:443", "*.*.example.com:443", "-a.example:1", "a-.example:1", "a..b:1",
    "a b:1", "exämple.com:443", "under_score.example:443", "*.:443", ".:443",
  })
  void badRulesAreRefusedWithAMessageNamingThem(String text) {
    assertThatThrownBy(() -> HostRule.parse(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("bad host rule '");
  }

  @Test
  void messagesSayHowToWriteTheRule() {
    assertThatThrownBy(() -> HostRule.parse("example.com")).hasMessageContaining("example.com:443")
        .hasMessageContaining("example.com:*");
    assertThatThrownBy(() -> HostRule.parse("2001:db8::1:443")).hasMessageContaining("brackets");
    assertThatThrownBy(() -> HostRule.parse("127.1:80")).hasMessageContaining("four decimal numbers");
  }

  @Test
  void aLongestLegalNameParsesAndOneMoreCharacterDoesNot() {
    String label = "a".repeat(63);
    String name = String.join(".", label, label, label, "a".repeat(61));
    assertThat(name).hasSize(253);
    assertThat(HostRule.parse(name + ":1")).hasToString(name + ":1");
    assertThatThrownBy(() -> HostRule.parse("b" + name + ":1")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HostRule.parse("a".repeat(64) + ".example:1")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void matchingIsByNameSubdomainAddressOrAnyAndByPort() throws Exception {
    HostRule.Host name = new HostRule.Host.Name("api.example.org");
    assertThat(HostRule.parse("api.example.org:443").matches(name, 443)).isTrue();
    assertThat(HostRule.parse("api.example.org:443").matches(name, 444)).isFalse();
    assertThat(HostRule.parse("api.example.org:*").matches(name, 1)).isTrue();
    assertThat(HostRule.parse("*.example.org:443").matches(name, 443)).isTrue();
    assertThat(HostRule.parse("*.example.org:443").matches(new HostRule.Host.Name("a.b.example.org"), 443)).isTrue();
    assertThat(HostRule.parse("*.example.org:443").matches(new HostRule.Host.Name("example.org"), 443)).isFalse();
    assertThat(HostRule.parse("*.example.org:443").matches(new HostRule.Host.Name("badexample.org"), 443)).isFalse();
    assertThat(HostRule.parse("example.org:443").matches(name, 443)).isFalse();
    assertThat(HostRule.parse("*:443").matches(name, 443)).isTrue();
    HostRule.Host address = new HostRule.Host.Address(InetAddress.getByName("198.51.100.7"));
    assertThat(HostRule.parse("198.51.100.7:443").matches(address, 443)).isTrue();
    assertThat(HostRule.parse("198.51.100.8:443").matches(address, 443)).isFalse();
    assertThat(HostRule.parse("*.example.org:*").matches(address, 443)).isFalse();
  }

  // ---- properties ----

  static final Gen<String> LABEL = Gen.oneOf(
      Gen.stringsOf("abcdefghijklmnopqrstuvwxyz0123456789", 1, 10),
      Gen.stringsOf("abcxyz019", 1, 3).map(s -> s + "-" + s),
      Gen.stringsOf("a", 63, 63));
  static final Gen<String> NAME = r -> {
    List<String> labels = new java.util.ArrayList<>(LABEL.list(4).next(r));
    labels.add("example");
    while (String.join(".", labels).length() > HostSyntax.MAX_NAME) {
      labels.remove(0);
    }
    return String.join(".", labels);
  };
  static final Gen<String> IPV4 = r -> r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256);
  static final Gen<String> IPV6 = r -> {
    byte[] b = new byte[16];
    r.nextBytes(b);
    // Runs of zero groups, where the compression rules bite.
    int from = r.nextInt(16);
    for (int i = from; i < Math.min(16, from + 2 * r.nextInt(8)); i++) {
      b[i] = 0;
    }
    return HostSyntax.address(Addresses.of(b));
  };
  static final Gen<String> HOST = Gen.oneOf(NAME, NAME.map(n -> "*." + n), IPV4, IPV6, Gen.of("*", "localhost"));
  static final Gen<String> PORT = Gen.oneOf(Gen.ints(1, 65_535).map(String::valueOf), Gen.of("*"));
  static final Gen<String> RULE = r -> HOST.next(r) + ":" + PORT.next(r);

  @Test
  void validRulesRoundTripThroughTheirCanonicalText() {
    Property.forAll(3_000, RULE, text -> {
      HostRule rule = HostRule.parse(text);
      assertThat(rule).hasToString(text);
      assertThat(HostRule.parse(rule.toString())).isEqualTo(rule);
    });
  }

  @Test
  void grantsRoundTripThroughTheirRules() {
    Property.forAll(1_000, RULE.list(6), rules -> {
      InternetGrant grant = InternetGrant.parse(rules);
      assertThat(grant.rules()).isEqualTo(rules);
      assertThat(InternetGrant.parse(grant.rules())).isEqualTo(grant);
    });
  }

  @Test
  void anyStringParsesOrIsRefusedWithIllegalArgumentExceptionOnly() {
    Gen<String> mutated = r -> {
      StringBuilder s = new StringBuilder(RULE.next(r));
      for (int i = r.nextInt(3); i >= 0 && !s.isEmpty(); i--) {
        int at = r.nextInt(s.length());
        switch (r.nextInt(3)) {
          case 0 -> s.deleteCharAt(at);
          case 1 -> s.insert(at, "*:.[]-%0aZ \u0000é".charAt(r.nextInt(13)));
          default -> s.setCharAt(at, (char) r.nextInt(0x180));
        }
      }
      return s.toString();
    };
    Gen<String> any = Gen.oneOf(Gen.strings(80), Gen.stringsOf("[]:.*0123456789abcdef-", 0, 50), mutated);
    Property.forAll(5_000, any, text -> {
      HostRule rule;
      try {
        rule = HostRule.parse(text);
      } catch (IllegalArgumentException e) {
        assertThat(e.getMessage()).startsWith("bad host rule '");
        return;
      }
      // Whatever parses has a canonical form that parses back to it.
      assertThat(HostRule.parse(rule.toString())).isEqualTo(rule);
    });
  }
}
