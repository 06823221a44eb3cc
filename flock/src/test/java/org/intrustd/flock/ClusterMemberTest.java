package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.hazelcast.config.Config;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A cluster member talks to the listed members and to nothing else. */
class ClusterMemberTest {
  @Test
  void theMemberJoinsOnlyTheListedMembersAndNeverPhonesHome() {
    Config config = ClusterMember.config(ClusterConfig.of("10.0.0.5", 5801, List.of("10.0.0.6:5801", "10.0.0.7:5801")));
    assertThat(config.getProperty("hazelcast.phone.home.enabled")).isEqualTo("false");
    assertThat(config.getProperty("hazelcast.socket.bind.any")).isEqualTo("false");
    var join = config.getNetworkConfig().getJoin();
    assertThat(join.getMulticastConfig().isEnabled()).isFalse();
    assertThat(join.getAutoDetectionConfig().isEnabled()).isFalse();
    assertThat(join.getAwsConfig().isEnabled() || join.getGcpConfig().isEnabled() || join.getAzureConfig().isEnabled()
        || join.getKubernetesConfig().isEnabled() || join.getEurekaConfig().isEnabled()).isFalse();
    assertThat(join.getTcpIpConfig().isEnabled()).isTrue();
    assertThat(join.getTcpIpConfig().getMembers()).containsExactly("10.0.0.6:5801", "10.0.0.7:5801");
    assertThat(config.getNetworkConfig().getInterfaces().getInterfaces()).containsExactly("10.0.0.5");
    assertThat(config.getNetworkConfig().getPort()).isEqualTo(5801);
    assertThat(config.getNetworkConfig().isPortAutoIncrement()).isFalse();
    assertThat(config.getJetConfig().isEnabled()).isFalse();
  }

  @Test
  void productionFailureDetectionKeepsFailoverWithinTenSeconds() {
    Config config = ClusterMember.config(ClusterConfig.of("127.0.0.1", 5701, List.of()));
    int heartbeat = Integer.parseInt(config.getProperty("hazelcast.heartbeat.interval.seconds"));
    int deadAfter = Integer.parseInt(config.getProperty("hazelcast.max.no.heartbeat.seconds"));
    assertThat(deadAfter).isLessThan(10).isGreaterThanOrEqualTo(2 * heartbeat);
  }

  @Test
  void badSettingsAreRefusedWithTheirName() {
    assertThatThrownBy(() -> ClusterConfig.of("flock.example.org", 5701, List.of()))
        .hasMessageContaining("IP address");
    assertThatThrownBy(() -> ClusterConfig.of("127.0.0.1", 0, List.of())).hasMessageContaining("port");
    assertThatThrownBy(() -> ClusterConfig.of("127.0.0.1", 5701, List.of("nohost"))).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> ClusterConfig.of("127.0.0.1", 5701, List.of()).withName("a b")).hasMessageContaining("name");
    assertThatThrownBy(() -> ClusterConfig.of("127.0.0.1", 5701, List.of())
        .withFailureDetection(Duration.ofSeconds(2), Duration.ofSeconds(3))).hasMessageContaining("two heartbeats");
    assertThat(ClusterConfig.of("::1", 5701, List.of("[::1]:5702")).address()).isEqualTo("[::1]:5701");
  }
}
