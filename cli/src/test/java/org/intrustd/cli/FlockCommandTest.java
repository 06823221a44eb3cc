package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.intrustd.flock.FlockConfig;
import org.intrustd.flock.IpLimits;
import org.intrustd.flock.Serving;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class FlockCommandTest {
  @TempDir
  Path dir;

  @Test
  void aConfigFileSetsOptionsAndTheCommandLineWins() throws Exception {
    Path file = Files.writeString(dir.resolve("flock.properties"), """
        # a comment
        port = 9000
        host=0.0.0.0
        stun=stun.example.org:3478, 192.0.2.1:3478
        ops-port=9100
        max-connections-per-ip=7
        ip-limit-exempt=none
        sessions-per-client=3
        """);
    FlockCommand command = new FlockCommand();
    CommandLine cmd = new CommandLine(command);
    cmd.parseArgs("--config", file.toString(), "--port", "9001");

    ConfigFile.apply(cmd, file);
    FlockConfig config = command.operations.apply(cmd, command.options.toConfig(cmd));

    assertThat(config.port()).as("the command line wins").isEqualTo(9001);
    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.iceServers()).hasSize(2);
    assertThat(config.serving().ops()).contains(new Serving.Listener("127.0.0.1", 9100));
    assertThat(config.serving().ipLimits()).isEqualTo(new IpLimits(7, 20, 100, List.of()));
    assertThat(config.limits().introductionsPerClient()).isEqualTo(3);
    assertThat(config.serving().tls()).isEmpty();
  }

  @Test
  void theDefaultsAreTheDocumentedOnes() {
    FlockCommand command = new FlockCommand();
    CommandLine cmd = new CommandLine(command);
    cmd.parseArgs();
    FlockConfig config = command.operations.apply(cmd, command.options.toConfig(cmd));
    assertThat(config.port()).isEqualTo(8480);
    assertThat(config.host()).isEqualTo("127.0.0.1");
    assertThat(config.serving().ops()).isEmpty();
    assertThat(config.serving().ipLimits()).isEqualTo(IpLimits.SERVER_DEFAULTS);
    assertThat(config.serving().handshakeTimeout()).hasSeconds(10);
    assertThat(config.serving().shutdownGrace()).isZero();
    assertThat(config.limits()).isEqualTo(org.intrustd.flock.Limits.DEFAULTS);
  }

  @Test
  void aBadConfigFileIsAClearMessageAndExitCode2() throws Exception {
    Path unknown = Files.writeString(dir.resolve("unknown.properties"), "port=0\nprot=1\n");
    Run run = Run.run("flock", "--config", unknown.toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains(unknown + ": unknown key 'prot'").doesNotContain("Exception");

    Path notANumber = Files.writeString(dir.resolve("nan.properties"), "port=eighty\n");
    run = Run.run("flock", "--config", notANumber.toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains(notANumber + ": port is a whole number, not 'eighty'");

    run = Run.run("flock", "--config", dir.resolve("missing.properties").toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("--config: cannot read");

    Path halfTls = Files.writeString(dir.resolve("tls.properties"), "port=0\ntls-cert=/etc/cert.pem\n");
    run = Run.run("flock", "--config", halfTls.toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("--tls-cert and --tls-key go together");

    Path badBlock = Files.writeString(dir.resolve("block.properties"), "port=0\nip-limit-exempt=10.0.0.0/40\n");
    run = Run.run("flock", "--config", badBlock.toString());
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("'10.0.0.0/40': the prefix length is 0-32");

    run = Run.run("flock", "--port", "0", "--log-format", "xml");
    assertThat(run.exit()).isEqualTo(2);
    assertThat(run.err()).contains("--log-format is text or json, not 'xml'");

    Path garbage = Files.writeString(dir.resolve("cert.pem"), "not a certificate");
    run = Run.run("flock", "--port", "0", "--tls-cert", garbage.toString(), "--tls-key", garbage.toString());
    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err()).contains("intrustd: TLS: " + garbage + " holds no PEM certificate").doesNotContain("Exception");
  }

  @Test
  void jsonLinesAreOneObjectEachWithTheThrownStackTrace() throws Exception {
    LogRecord record = new LogRecord(Level.WARNING, "two\nlines \"quoted\"");
    record.setLoggerName("org.intrustd.flock.Flock");
    record.setThrown(new IllegalStateException("boom"));
    String line = new JsonLogFormatter().format(record);

    assertThat(line).endsWith(System.lineSeparator());
    assertThat(line.strip()).doesNotContain("\n");
    JsonNode json = new ObjectMapper().readTree(line);
    assertThat(json.get("level").asText()).isEqualTo("WARN");
    assertThat(json.get("logger").asText()).isEqualTo("org.intrustd.flock.Flock");
    assertThat(json.get("message").asText()).isEqualTo("two\nlines \"quoted\"");
    assertThat(json.get("time").asText()).isEqualTo(record.getInstant().toString());
    assertThat(json.get("thrown").asText()).startsWith("java.lang.IllegalStateException: boom");
    assertThat(JsonLogFormatter.level(Level.SEVERE)).isEqualTo("ERROR");
    assertThat(JsonLogFormatter.level(Level.FINE)).isEqualTo("DEBUG");
    assertThat(JsonLogFormatter.level(Level.FINEST)).isEqualTo("TRACE");
  }

  /** The real command in its own JVM, as the launcher runs it: config file, metrics, JSON logs, SIGTERM. */
  @Test
  @org.junit.jupiter.api.Timeout(90)
  void aFlockProcessServesMetricsLogsJsonAndStopsOnSigterm() throws Exception {
    Path file = Files.writeString(dir.resolve("flock.properties"), "port=0\nops-port=0\nlog-format=json\n");
    Path logging = Files.writeString(dir.resolve("logging.properties"),
        Files.readString(Path.of("src/main/resources/logging.properties")));
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Djava.util.logging.config.file=" + logging, "-cp", System.getProperty("java.class.path"),
        "org.intrustd.cli.Main", "flock", "--config", file.toString()));
    Process process = new ProcessBuilder(command).redirectError(dir.resolve("stderr").toFile()).start();
    HttpClient http = HttpClient.newHttpClient();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      String line;
      JsonNode ready = null;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("INTRUSTD_READY ")) {
          ready = new ObjectMapper().readTree(line.substring("INTRUSTD_READY ".length()));
          break;
        }
      }
      assertThat(ready).as("the ready line").isNotNull();
      URI ops = URI.create(ready.get("ops").asText() + "/");
      HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(ops.resolve("metrics")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.body()).contains("flock_clients_connected 0");
      URI pub = URI.create(ready.get("http").asText() + "/");
      assertThat(http.send(HttpRequest.newBuilder(pub.resolve("readyz")).build(), HttpResponse.BodyHandlers.ofString())
          .statusCode()).isEqualTo(200);

      process.destroy(); // SIGTERM
      assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
      List<String> logLines = Files.readAllLines(dir.resolve("stderr")).stream().filter(l -> !l.isBlank()).toList();
      assertThat(logLines).isNotEmpty();
      for (String l : logLines) {
        JsonNode json = new ObjectMapper().readTree(l);
        assertThat(json.has("time") && json.has("level") && json.has("logger") && json.has("message")).as(l).isTrue();
      }
      assertThat(logLines).anySatisfy(l -> assertThat(l).contains("flock serving"));
    } finally {
      process.destroyForcibly();
      http.shutdownNow();
    }
  }
}
