package org.intrustd.flock;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;

/**
 * The embedded Hazelcast member of a clustered flock node: the one place that configures
 * Hazelcast. It joins only the listed members over TCP and contacts nothing else: no multicast,
 * no cloud auto-detection, no phone-home usage reports, no Jet engine, no metrics export.
 */
final class ClusterMember {
  private ClusterMember() {}

  /** Starts a member and waits until it has joined the cluster (or formed it alone). */
  static HazelcastInstance start(ClusterConfig cluster) {
    try {
      return Hazelcast.newHazelcastInstance(config(cluster));
    } catch (RuntimeException e) {
      throw new FlockException("cannot start a cluster member on " + cluster.address(), e);
    }
  }

  static Config config(ClusterConfig cluster) {
    Config config = new Config();
    config.setClusterName(cluster.name());
    // No usage reports to hazelcast.com (the environment variable HZ_PHONE_HOME_ENABLED=false does the same).
    config.setProperty("hazelcast.phone.home.enabled", "false");
    config.setProperty("hazelcast.logging.type", "jdk");
    // The flock's own close() leaves the cluster; a JVM hook of Hazelcast's would race with it.
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.health.monitoring.level", "OFF");
    // Leaving hands this node's map partitions to the others; Hazelcast would wait 10 minutes
    // for that when they are unreachable. The map holds only what appliances re-send anyway.
    config.setProperty("hazelcast.graceful.shutdown.max.wait", "10");
    // Listen on the configured address only, never on every interface.
    config.setProperty("hazelcast.socket.bind.any", "false");
    config.setProperty("hazelcast.heartbeat.interval.seconds", Long.toString(cluster.heartbeat().toSeconds()));
    config.setProperty("hazelcast.max.no.heartbeat.seconds", Long.toString(cluster.maxSilence().toSeconds()));
    // Hazelcast waits 5 s (up to 20 s) for more members before a join settles: a node that
    // starts alone would serve nothing that long. One second is plenty on a LAN.
    config.setProperty("hazelcast.wait.seconds.before.join", "1");
    config.setProperty("hazelcast.max.wait.seconds.before.join", "3");
    config.getJetConfig().setEnabled(false);
    config.getMetricsConfig().setEnabled(false);

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(cluster.port()).setPortAutoIncrement(false);
    network.getInterfaces().setEnabled(true).addInterface(cluster.bindAddress());
    network.setPublicAddress(cluster.address());
    // The REST and memcache endpoints on the member port stay off, as by default.
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false); // would probe cloud metadata endpoints
    join.getTcpIpConfig().setEnabled(true).setMembers(cluster.members())
        .setConnectionTimeoutSeconds((int) cluster.joinTimeout().toSeconds());
    return config;
  }
}
