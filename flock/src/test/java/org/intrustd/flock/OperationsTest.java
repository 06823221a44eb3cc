package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalMessage.Error;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Ping;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Health, readiness and metrics, as a load balancer and Prometheus see them. */
class OperationsTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private Harness harness;

  @AfterEach
  void stop() {
    if (harness != null) {
      harness.close();
    }
    http.shutdownNow();
  }

  @Test
  void healthAndReadinessAreOnThePublicListenerAndMetricsOnlyOnTheOperationsOne() throws Exception {
    harness = new Harness(FlockConfig.defaults().withServing(Serving.DEFAULTS.withOps("127.0.0.1", 0)));
    URI pub = publicHttp();
    URI ops = opsHttp();

    HttpResponse<String> health = get(pub.resolve("/healthz"));
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("{\"status\":\"ok\"}");
    assertThat(health.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(get(pub.resolve("/readyz")).body()).isEqualTo("{\"status\":\"ready\"}");
    assertThat(get(ops.resolve("/healthz")).statusCode()).isEqualTo(200);
    assertThat(get(ops.resolve("/readyz")).statusCode()).isEqualTo(200);

    assertThat(get(pub.resolve("/metrics")).statusCode()).as("not public").isEqualTo(404);
    HttpResponse<String> metrics = get(ops.resolve("/metrics"));
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain; version=0.0.4");
    assertThat(metrics.body()).contains("# TYPE flock_appliances_registered gauge", "# TYPE flock_clients_connected gauge",
        "# TYPE flock_introductions_total counter", "flock_introduction_failures_total{reason=\"appliance-offline\"} 0",
        "flock_turn_credentials_minted_total 0", "flock_protocol_errors_total{code=\"rate-limited\"} 0",
        "flock_tcp_connections", "jvm_memory_used_bytes", "process_cpu_usage", "process_uptime_seconds",
        "process_files_open_files", "jvm_threads_live_threads");
    assertThat(get(ops.resolve("/nothing")).statusCode()).isEqualTo(404);
    assertThat(http.send(HttpRequest.newBuilder(pub.resolve("/readyz")).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);
  }

  @Test
  void aHoldKeepsTheFlockNotReadyWithItsReasonUntilReleased() throws Exception {
    harness = new Harness(FlockConfig.defaults());
    Readiness.Hold joining = harness.flock.readiness().hold("joining the cluster");

    HttpResponse<String> notReady = get(publicHttp().resolve("/readyz"));
    assertThat(notReady.statusCode()).isEqualTo(503);
    assertThat(notReady.headers().firstValue("content-type")).hasValue("application/problem+json");
    assertThat(notReady.body()).isEqualTo(
        "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"joining the cluster\"}");
    assertThat(get(publicHttp().resolve("/healthz")).statusCode()).as("alive all the same").isEqualTo(200);

    joining.release();
    joining.release();
    assertThat(get(publicHttp().resolve("/readyz")).statusCode()).isEqualTo(200);
  }

  @Test
  void closingAnswers503AtOnceAndKeepsServingForTheGrace() throws Exception {
    harness = new Harness(FlockConfig.defaults()
        .withServing(Serving.DEFAULTS.withOps("127.0.0.1", 0).withShutdownGrace(Duration.ofSeconds(2))));
    URI pub = publicHttp();
    URI ops = opsHttp();
    WsPeer client = harness.client();

    CompletableFuture<Void> closing = CompletableFuture.runAsync(harness.flock::close);
    Thread.sleep(300);

    HttpResponse<String> stopping = get(ops.resolve("/readyz"));
    assertThat(stopping.statusCode()).isEqualTo(503);
    assertThat(stopping.body()).contains("\"detail\":\"shutting down\"");
    assertThat(get(pub.resolve("/readyz")).statusCode()).isEqualTo(503);
    client.send(new Ping());
    assertThat(client.next()).isEqualTo("{\"type\":\"pong\"}");
    closing.get();
    assertThat(client.closeStatus()).as("closed at the end of the grace").isNotZero();
  }

  @Test
  void metricsCountRegistrationsClientsIntroductionsFailuresTurnCredentialsAndRefusals() throws Exception {
    FakeClock frozen = new FakeClock();
    byte[] secret = "0123456789abcdef0123".getBytes(StandardCharsets.UTF_8);
    harness = new Harness(FlockConfig.defaults().withClock(frozen)
        .withTurn(TurnRelay.at("198.51.100.7:3478", secret, Duration.ofHours(1)))
        .withServing(Serving.DEFAULTS.withOps("127.0.0.1", 0)));
    Identity identity = new Identity(Ed25519.generate());

    WsPeer appliance = harness.appliance(identity); // one credential in 'registered'
    WsPeer client = harness.client(); // one in 'hello'
    assertThat(metric("flock_appliances_registered")).isEqualTo(1);
    assertThat(metric("flock_clients_connected")).isEqualTo(1);
    assertThat(metric("flock_registrations_total")).isEqualTo(1);

    client.send(new Introduce("s1", identity.id().toString(), "v=0"));
    appliance.nextAppliance(Offer.class); // one in the offer
    client.send(new Introduce("s2", new Identity(Ed25519.generate()).id().toString(), "v=0"));
    assertThat(client.nextClient(Error.class).code()).isEqualTo("appliance-offline");
    client.send(new Introduce("s3", "not-an-id", "v=0"));
    assertThat(client.nextClient(Error.class).code()).isEqualTo("invalid-appliance-id");

    assertThat(metric("flock_introductions_total")).isEqualTo(1);
    assertThat(metric("flock_introduction_failures_total{reason=\"appliance-offline\"}")).isEqualTo(1);
    assertThat(metric("flock_introduction_failures_total{reason=\"invalid-appliance-id\"}")).isEqualTo(1);
    assertThat(metric("flock_turn_credentials_minted_total")).isEqualTo(3);

    WsPeer flooder = harness.clientSocket();
    flooder.nextClient(Hello.class);
    for (int i = 0; i <= Limits.DEFAULTS.burst(); i++) {
      flooder.send(new Ping());
    }
    assertThat(flooder.closeStatus()).isEqualTo(1008);
    awaitMetric("flock_protocol_errors_total{code=\"rate-limited\"}", 1);

    appliance.abort();
    client.abort();
    awaitMetric("flock_appliances_registered", 0);
    awaitMetric("flock_clients_connected", 0);
    awaitMetric("flock_appliance_connections", 0);
  }

  @Test
  void aReplacedRegistrationIsCountedOnce() throws Exception {
    harness = new Harness(FlockConfig.defaults().withServing(Serving.DEFAULTS.withOps("127.0.0.1", 0)));
    Identity identity = new Identity(Ed25519.generate());
    WsPeer first = harness.appliance(identity);
    // 'registered' goes out just before the registry entry is made: wait for the entry, or on a
    // busy machine the second registration may be entered first and be the one replaced.
    awaitTrue(() -> harness.flock.registry().find(identity.id()).isPresent());
    harness.appliance(identity);
    assertThat(first.closeStatus()).isEqualTo(4001);
    awaitMetric("flock_appliances_registered", 1);
    assertThat(metric("flock_registrations_total")).isEqualTo(2);
  }

  private URI publicHttp() {
    return URI.create("http://127.0.0.1:" + harness.flock.port() + "/");
  }

  private URI opsHttp() {
    return URI.create("http://127.0.0.1:" + harness.flock.opsPort().orElseThrow() + "/");
  }

  private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** One sample's value from /metrics, by its name and labels as Prometheus prints them. */
  private double metric(String series) throws Exception {
    String body = get(opsHttp().resolve("/metrics")).body();
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(body);
    assertThat(m.find()).as(series + " in\n" + body).isTrue();
    return Double.parseDouble(m.group(1));
  }

  private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + WsPeer.PATIENCE.toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(condition.getAsBoolean()).isTrue();
  }

  private void awaitMetric(String series, double value) throws Exception {
    long deadline = System.nanoTime() + WsPeer.PATIENCE.toNanos();
    while (metric(series) != value && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(metric(series)).as(series).isEqualTo(value);
  }
}
