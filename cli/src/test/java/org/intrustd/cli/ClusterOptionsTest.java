package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.intrustd.flock.ClusterConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class ClusterOptionsTest {
  private static Optional<ClusterConfig> parse(String... args) {
    FlockCommand command = new FlockCommand();
    CommandLine cmd = new CommandLine(command);
    cmd.parseArgs(args);
    return command.cluster.toConfig(cmd);
  }

  @Test
  void withNoMemberTheFlockIsASingleNode() {
    assertThat(parse("--port", "0")).isEmpty();
    assertThat(parse("--cluster-port", "5801", "--cluster-name", "x")).isEmpty();
  }

  @Test
  void membersMakeAClusterNodeWithTheGivenAddressPortAndName() {
    ClusterConfig c = parse("--cluster-member", "10.0.0.1:5701", "--cluster-member", "10.0.0.2:5701",
        "--cluster-bind", "10.0.0.2", "--cluster-port", "5702", "--cluster-name", "prod").orElseThrow();
    assertThat(c.members()).containsExactly("10.0.0.1:5701", "10.0.0.2:5701");
    assertThat(c.address()).isEqualTo("10.0.0.2:5702");
    assertThat(c.name()).isEqualTo("prod");
    assertThat(c.maxSilence()).isEqualTo(ClusterConfig.DEFAULT_MAX_SILENCE);
  }

  @Test
  void aBindAddressIsLoopbackByDefaultAndMustBeAnIp() {
    assertThat(parse("--cluster-member", "127.0.0.1:5702").orElseThrow().bindAddress()).isEqualTo("127.0.0.1");
    assertThatThrownBy(() -> parse("--cluster-member", "10.0.0.1:5701", "--cluster-bind", "flock.example.org"))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("IP address");
    assertThatThrownBy(() -> parse("--cluster-member", "no-port"))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("HOST:PORT");
  }
}
