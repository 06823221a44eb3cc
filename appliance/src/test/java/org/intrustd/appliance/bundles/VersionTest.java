package org.intrustd.appliance.bundles;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** Properties of the version order; the documented examples are in bundle-versions.json (BundleVectorsTest). */
class VersionTest {
  @Test
  void theOrderIsTotalAndConsistentWithEqualsAndTextRoundTrips() {
    Gen<String> versions = r -> {
      StringBuilder s = new StringBuilder().append(r.nextInt(3));
      for (int i = 0, n = r.nextInt(4); i < n; i++) {
        s.append('.').append(r.nextInt(3));
      }
      for (int i = 0, n = r.nextInt(3); i < n; i++) {
        s.append(i == 0 ? '-' : '.').append(r.nextBoolean() ? Integer.toString(r.nextInt(3)) : List.of("a", "b", "rc").get(r.nextInt(3)));
      }
      return s.toString();
    };
    Property.forAll(2000, versions, versions, (a, b) -> {
      Version va = Version.parse(a).orElseThrow();
      Version vb = Version.parse(b).orElseThrow();
      assertThat(va.toString()).isEqualTo(a);
      assertThat(Integer.signum(va.compareTo(vb))).isEqualTo(-Integer.signum(vb.compareTo(va)));
      assertThat(va.compareTo(vb) == 0).isEqualTo(va.equals(vb)).isEqualTo(a.equals(b));
    });
  }
}
