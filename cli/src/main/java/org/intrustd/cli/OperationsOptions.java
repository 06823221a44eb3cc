package org.intrustd.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.intrustd.flock.FlockConfig;
import org.intrustd.flock.IpLimits;
import org.intrustd.flock.Limits;
import org.intrustd.flock.Serving;
import org.intrustd.flock.Tls;
import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * How {@code intrustd flock} serves beyond the protocol: TLS, the operations listener, logs and
 * limits (docs/flock.md). Only the flock command has them: the demo's flock is a local one.
 */
final class OperationsOptions {
  @Option(names = "--tls-cert", paramLabel = "FILE",
      description = "PEM certificate chain (server first, as certbot's fullchain.pem): serve wss:// (with --tls-key).")
  Path tlsCert;

  @Option(names = "--tls-key", paramLabel = "FILE",
      description = "PEM private key of --tls-cert, unencrypted (PKCS#8, PKCS#1 or SEC1).")
  Path tlsKey;

  @Option(names = "--ops-port", paramLabel = "PORT",
      description = "Open the operations listener (/metrics, /healthz, /readyz) on this port; 0 picks a free one"
          + " (default: none).")
  Integer opsPort;

  @Option(names = "--ops-host", paramLabel = "ADDRESS", defaultValue = "127.0.0.1",
      description = "Address of the operations listener (default: ${DEFAULT-VALUE}: metrics are not public).")
  String opsHost;

  @Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text",
      description = "Log lines for people (text) or one JSON object per line (json) (default: ${DEFAULT-VALUE}).")
  String logFormat;

  @Option(names = "--max-connections-per-ip", paramLabel = "N", defaultValue = "128",
      description = "TCP connections one address (IPv6: one /64) may hold at once; 0: no limit (default: ${DEFAULT-VALUE}).")
  int maxConnectionsPerIp;

  @Option(names = "--new-connections-per-ip", paramLabel = "N", defaultValue = "20",
      description = "New connections per second from one address; 0: no limit (default: ${DEFAULT-VALUE}).")
  int newConnectionsPerIp;

  @Option(names = "--new-connections-burst", paramLabel = "N", defaultValue = "100",
      description = "New connections one address may open at once before the rate applies (default: ${DEFAULT-VALUE}).")
  int newConnectionsBurst;

  @Option(names = "--ip-limit-exempt", paramLabel = "BLOCK", split = ",",
      defaultValue = "127.0.0.0/8,::1/128",
      description = "Addresses or CIDR blocks no per-address limit applies to, such as a reverse proxy's;"
          + " 'none' for none (default: ${DEFAULT-VALUE}).")
  List<String> ipLimitExempt = new ArrayList<>();

  @Option(names = "--handshake-timeout", paramLabel = "SECONDS", defaultValue = "10",
      description = "Time a new connection has to send its request (after any TLS handshake) (default: ${DEFAULT-VALUE}).")
  int handshakeTimeout;

  @Option(names = "--shutdown-grace", paramLabel = "SECONDS", defaultValue = "0",
      description = "On SIGTERM, answer 503 on /readyz for this long before closing (default: ${DEFAULT-VALUE}).")
  int shutdownGrace;

  @Option(names = "--messages-per-second", paramLabel = "N", defaultValue = "100",
      description = "Messages per second one WebSocket connection may send (default: ${DEFAULT-VALUE}).")
  int messagesPerSecond;

  @Option(names = "--message-burst", paramLabel = "N", defaultValue = "200",
      description = "Messages one connection may send at once before the rate applies (default: ${DEFAULT-VALUE}).")
  int messageBurst;

  @Option(names = "--sessions-per-client", paramLabel = "N", defaultValue = "16",
      description = "Introductions one /client connection may have open (default: ${DEFAULT-VALUE}).")
  int sessionsPerClient;

  @Option(names = "--sessions-per-appliance", paramLabel = "N", defaultValue = "64",
      description = "Sessions one registered appliance may have open (default: ${DEFAULT-VALUE}).")
  int sessionsPerAppliance;

  boolean jsonLogs(CommandLine cmd) {
    return switch (logFormat) {
      case "text" -> false;
      case "json" -> true;
      default -> throw new ParameterException(cmd, "--log-format is text or json, not '" + logFormat + "'");
    };
  }

  /** {@code base} with these options applied; a bad value is a {@link ParameterException}. */
  FlockConfig apply(CommandLine cmd, FlockConfig base) {
    jsonLogs(cmd);
    Serving serving = Serving.DEFAULTS;
    if ((tlsCert == null) != (tlsKey == null)) {
      throw new ParameterException(cmd, "--tls-cert and --tls-key go together");
    }
    if (tlsCert != null) {
      serving = serving.withTls(new Tls(tlsCert, tlsKey));
    }
    if (opsPort != null) {
      if (opsPort < 0 || opsPort > 65_535) {
        throw new ParameterException(cmd, "--ops-port must be 0-65535, not " + opsPort);
      }
      serving = serving.withOps(opsHost, opsPort);
    }
    List<String> exempt = ipLimitExempt.stream().map(String::strip).filter(s -> !s.isEmpty()).toList();
    if (exempt.equals(List.of("none"))) {
      exempt = List.of();
    }
    try {
      serving = serving.withIpLimits(new IpLimits(maxConnectionsPerIp, newConnectionsPerIp, newConnectionsBurst, exempt))
          .withHandshakeTimeout(Duration.ofSeconds(handshakeTimeout))
          .withShutdownGrace(Duration.ofSeconds(shutdownGrace));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cmd, "per-address limits: " + e.getMessage());
    }
    if (handshakeTimeout < 1 || shutdownGrace < 0) {
      throw new ParameterException(cmd, "--handshake-timeout is at least 1 and --shutdown-grace at least 0");
    }
    Limits limits;
    try {
      Limits d = Limits.DEFAULTS;
      limits = new Limits(d.maxMessageBytes(), messagesPerSecond, messageBurst, sessionsPerClient, sessionsPerAppliance,
          d.challengeExpiry(), d.applianceIdle());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(cmd, "limits: " + e.getMessage());
    }
    return base.withServing(serving).withLimits(limits);
  }
}
