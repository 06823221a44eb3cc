package org.intrustd.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.intrustd.flock.ClusterConfig;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * Options that make {@code intrustd flock} one node of a clustered flock (docs/flock-cluster.md).
 * With no {@code --cluster-member} the flock is a single node and Hazelcast never starts.
 */
final class ClusterOptions {
  @Option(names = "--cluster-member", paramLabel = "HOST:PORT",
      description = "Another node of this flock's cluster, at its --cluster-bind:--cluster-port (repeatable; listing"
          + " this node too is fine). Any of them makes this flock a cluster node.")
  List<String> members = new ArrayList<>();

  @Option(names = "--cluster-bind", paramLabel = "IP", defaultValue = "127.0.0.1",
      description = "The IP address this node's cluster member listens on: a private network, never the internet"
          + " (members do not authenticate each other; default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--cluster-port", paramLabel = "PORT", defaultValue = "" + ClusterConfig.DEFAULT_PORT,
      description = "The TCP port of this node's cluster member (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--cluster-name", paramLabel = "NAME", defaultValue = "intrustd-flock",
      description = "Only nodes with the same name form a cluster; a guard against mistakes, not a secret"
          + " (default: ${DEFAULT-VALUE}).")
  String name;

  /** The cluster to join, or empty for a single node. */
  Optional<ClusterConfig> toConfig(picocli.CommandLine cmd) {
    if (members.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(ClusterConfig.of(bind, port, members).withName(name));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cmd, e.getMessage());
    }
  }
}
