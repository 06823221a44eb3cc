package org.intrustd.appliance.egress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What a grant allows: names, addresses, and which addresses count as public. */
class EgressInternetGrantTest {

  private static Target target(String authority) {
    return Target.parse(authority);
  }

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "0.0.0.0", "0.1.2.3", "10.0.0.1", "100.64.0.1", "127.0.0.1", "127.255.255.254", "169.254.169.254", "172.16.0.1",
    "172.31.255.255", "192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.5", "198.19.255.255", "198.51.100.7",
    "203.0.113.9", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::", "::1", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "fec0::1", "2001:db8::1", "2001:0:4136:e378::1",
    "2002:7f00:1::", "2002:c0a8:101::1", "64:ff9b::7f00:1", "::127.0.0.1", "100::1", "3fff::1",
  })
  void specialAddressesAreNotPublic(String literal) throws Exception {
    assertThat(Addresses.special(ip(literal))).as(literal).isPresent();
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "1.1.1.1", "8.8.8.8", "93.184.215.14", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0",
    "192.167.255.255", "198.17.255.255", "198.20.0.0", "223.255.255.255",
    "2606:4700:4700::1111", "2a00:1450:4001:82b::200e", "2002:808:808::1",
  })
  void globalUnicastAddressesArePublic(String literal) throws Exception {
    assertThat(Addresses.special(ip(literal))).as(literal).isEmpty();
  }

  @Test
  void anyPublicHostAdmitsPublicAddressesOnly() throws Exception {
    InternetGrant any = InternetGrant.anyPublicHost();
    assertThat(any.admits(target("example.com:443"), ip("93.184.215.14"))).isTrue();
    assertThat(any.admits(target("example.com:443"), ip("127.0.0.1"))).isFalse();
    assertThat(any.admits(target("8.8.8.8:53"), ip("8.8.8.8"))).isTrue();
    assertThat(any.admits(target("192.168.1.1:80"), ip("192.168.1.1"))).isFalse();
  }

  @ParameterizedTest
  @CsvSource({
    // rules ; target ; address connected to ; allowed
    "example.com:443, example.com:443, 93.184.215.14, true",
    "example.com:443, example.com:80, 93.184.215.14, false",
    "example.com:443, www.example.com:443, 93.184.215.14, false",
    "example.com:443, 93.184.215.14:443, 93.184.215.14, false",
    "*.example.com:443, www.example.com:443, 93.184.215.14, true",
    "*.example.com:443, www.example.com:443, 10.0.0.7, false",
    "*:443, www.example.com:443, 93.184.215.14, true",
    "*:443, 10.0.0.7:443, 10.0.0.7, false",
    "*:443 10.0.0.7:443, 10.0.0.7:443, 10.0.0.7, true",
    "localhost:*, localhost:8080, 127.0.0.1, false",
    "localhost:8080 127.0.0.1:8080, localhost:8080, 127.0.0.1, true",
    "localhost:8080 127.0.0.1:9090, localhost:8080, 127.0.0.1, false",
    "127.0.0.1:8080, 127.0.0.1:8080, 127.0.0.1, true",
    "127.0.0.1:8080, localhost:8080, 127.0.0.1, false",
    "198.18.0.5:*, 198.18.0.5:1234, 198.18.0.5, true",
    "[::1]:8080, [::1]:8080, ::1, true",
    "[::1]:8080, [::1]:8081, ::1, false",
  })
  void rulesAdmitByNameAndTheConnectedAddressMustBePublicOrNamed(String rules, String authority, String address,
      boolean allowed) throws Exception {
    InternetGrant grant = InternetGrant.parse(List.of(rules.split(" ")));
    assertThat(grant.admits(target(authority), ip(address))).isEqualTo(allowed);
  }

  @Test
  void aBadRuleInAGrantIsNamed() {
    assertThatThrownBy(() -> InternetGrant.parse("example.com:443", "example.org"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("bad host rule 'example.org'");
  }

  @Test
  void grantsSayWhatTheyAllow() {
    assertThat(InternetGrant.anyPublicHost()).hasToString("any public host");
    assertThat(InternetGrant.parse("Example.com:443", "[::1]:*")).hasToString("example.com:443, [::1]:*");
  }
}
