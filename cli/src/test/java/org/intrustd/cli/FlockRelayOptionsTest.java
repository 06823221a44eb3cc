package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code --relay} and its options: wrong ones are usage errors, said before any coturn starts. */
class FlockRelayOptionsTest {
  @Test
  void aRelayNeedsAnAddressClientsCanReach(@TempDir Path dir) {
    Run wildcard = Run.run("flock", "--port", "0", "--host", "0.0.0.0", "--relay", "--relay-dir", dir.toString());
    assertThat(wildcard.exit()).isEqualTo(2);
    assertThat(wildcard.err()).contains("--relay-address").doesNotContain("Exception");

    Run name = Run.run("flock", "--port", "0", "--relay", "--relay-address", "relay.example", "--relay-dir", dir.toString());
    assertThat(name.exit()).isEqualTo(2);
    assertThat(name.err()).contains("--relay:").contains("relay.example");

    Run port = Run.run("flock", "--port", "0", "--relay", "--relay-port", "0", "--relay-dir", dir.toString());
    assertThat(port.exit()).isEqualTo(2);
    assertThat(port.err()).contains("port must be 1-65535");
  }

  @Test
  void allowedPeersAreCidrBlocksAndARelayOfItsOwnExcludesAnotherOne(@TempDir Path dir) throws Exception {
    Run bad = Run.run("flock", "--port", "0", "--relay", "--relay-allow-peer", "lan", "--relay-dir", dir.toString());
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("--relay-allow-peer").contains("'lan'");

    Path secret = Files.writeString(dir.resolve("secret"), "0123456789abcdef0123\n");
    Run both = Run.run("flock", "--port", "0", "--relay", "--turn", "192.0.2.1:3478", "--turn-secret-file", secret.toString(),
        "--relay-dir", dir.toString());
    assertThat(both.exit()).isEqualTo(2);
    assertThat(both.err()).contains("leave out --turn");
    assertThat(dir.resolve("turnserver.conf")).as("no relay was configured").doesNotExist();
  }
}
