package org.intrustd.flock.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.net.InetAddress;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** CIDR blocks as coturn's peer rules want them, from what an operator types on the command line. */
class AddressRangeTest {
  @Test
  void blocksBecomeCoturnRanges() {
    assertThat(AddressRange.parse("10.0.0.0/8").coturn()).isEqualTo("10.0.0.0-10.255.255.255");
    assertThat(AddressRange.parse("198.18.7.9/15").coturn()).isEqualTo("198.18.0.0-198.19.255.255");
    assertThat(AddressRange.parse("192.0.2.7").coturn()).isEqualTo("192.0.2.7");
    assertThat(AddressRange.parse("0.0.0.0/0").coturn()).isEqualTo("0.0.0.0-255.255.255.255");
    assertThat(AddressRange.parse("fc00::/7").coturn()).isEqualTo("fc00:0:0:0:0:0:0:0-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    // An IPv4-mapped block stays IPv6: read as IPv4 it would deny (or allow) every IPv4 peer.
    assertThat(AddressRange.parse("::ffff:0:0/96").coturn()).isEqualTo("0:0:0:0:0:ffff:0:0-0:0:0:0:0:ffff:ffff:ffff");
  }

  @Test
  void namesAndMalformedBlocksAreRefusedWithoutAskingDns() {
    for (String bad : new String[] {"", "example.org", "localhost", "10.0.0.0/33", "10.0.0.0/", "10.0.0.256", "::/129",
        "10.0.0.0/8/8", "1.2.3", "/8", "10.0.0.0/-1", "fe80::1%eth0"}) {
      assertThatThrownBy(() -> AddressRange.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void theDefaultDenialsCoverPrivateAndLoopbackButNotThePublicInternet() {
    assertThat(denied("10.1.2.3")).isTrue();
    assertThat(denied("127.0.0.1")).isTrue();
    assertThat(denied("192.168.1.1")).isTrue();
    assertThat(denied("198.19.0.1")).isTrue();
    assertThat(denied("fd12::1")).isTrue();
    assertThat(denied("::1")).isTrue();
    assertThat(denied("9.9.9.9")).isFalse();
    assertThat(denied("2a00:1450::1")).isFalse();
  }

  @Test
  void anyBlockHoldsItsAddressAndIsAlignedToItsPrefix() {
    Gen<String> v4 = r -> r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(256) + "/"
        + r.nextInt(33);
    Gen<String> v6 = r -> {
      StringBuilder s = new StringBuilder();
      for (int i = 0; i < 8; i++) {
        s.append(i == 0 ? "" : ":").append(Integer.toHexString(r.nextInt(65_536)));
      }
      return s + "/" + r.nextInt(129);
    };
    Property.forAll(2000, Gen.oneOf(v4, v6), block -> {
      AddressRange range = AddressRange.parse(block);
      int bits = range.first().getAddress().length * 8;
      int prefix = Integer.parseInt(block.substring(block.indexOf('/') + 1));
      BigInteger addr = value(block.substring(0, block.indexOf('/')));
      BigInteger first = new BigInteger(1, range.first().getAddress());
      BigInteger last = new BigInteger(1, range.last().getAddress());
      assertThat(first).isLessThanOrEqualTo(addr);
      assertThat(last).isGreaterThanOrEqualTo(addr);
      assertThat(last.subtract(first).add(BigInteger.ONE)).isEqualTo(BigInteger.ONE.shiftLeft(bits - prefix));
      assertThat(first.mod(BigInteger.ONE.shiftLeft(bits - prefix))).isZero();
    });
  }

  @Test
  void garbageIsRefusedAsIllegalArgumentOnly() {
    Property.forAll(3000, Gen.stringsOf("0123456789abcdef:./%- x", 0, 48), text -> {
      try {
        AddressRange.parse(text);
      } catch (IllegalArgumentException expected) {
        // what the CLI turns into a usage error
      }
    });
  }

  private static boolean denied(String addr) {
    BigInteger v = value(addr);
    int len = addr.contains(":") ? 16 : 4;
    return AddressRange.PRIVATE_AND_SPECIAL.stream().filter(r -> r.first().getAddress().length == len).anyMatch(r ->
        new BigInteger(1, r.first().getAddress()).compareTo(v) <= 0 && new BigInteger(1, r.last().getAddress()).compareTo(v) >= 0);
  }

  private static BigInteger value(String literal) {
    try {
      return new BigInteger(1, InetAddress.getByName(literal).getAddress());
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }
}
