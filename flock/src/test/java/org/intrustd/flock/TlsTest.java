package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.Introduce;
import org.intrustd.core.signal.SignalMessage.Offer;
import org.intrustd.core.signal.SignalMessage.Register;
import org.intrustd.core.signal.SignalMessage.Registered;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** wss:// from PEM files: a certificate made in the test, trusted by the test's client only. */
class TlsTest {
  @TempDir
  Path dir;

  @ParameterizedTest
  @CsvSource({"EC, false", "EC, true", "RSA, false", "RSA, true"})
  void anApplianceRegistersAndAClientIsIntroducedOverTls(SelfSigned.Kind kind, boolean traditionalKey) throws Exception {
    SelfSigned certificate = SelfSigned.make(dir, kind, traditionalKey);
    HttpClient http = HttpClient.newBuilder().sslContext(certificate.trustingIt()).build();
    try (Flock flock = Flock.start(FlockConfig.defaults().withServing(Serving.DEFAULTS.withTls(certificate.tls())))) {
      assertThat(flock.uri()).hasToString("wss://127.0.0.1:" + flock.port() + "/");
      Identity identity = new Identity(Ed25519.generate());

      WsPeer appliance = WsPeer.connect(http, flock.uri().resolve("appliance"));
      Challenge challenge = appliance.nextAppliance(Challenge.class);
      appliance.send(new Register(identity.publicKey(), "tls box", identity.signRegistration(challenge.nonce())));
      appliance.nextAppliance(Registered.class);
      WsPeer client = WsPeer.connect(http, URI.create("wss://localhost:" + flock.port() + "/client"));
      client.nextClient(Hello.class);
      client.send(new Introduce("s", identity.id().toString(), "v=0"));
      assertThat(appliance.nextAppliance(Offer.class).sdp()).isEqualTo("v=0");

      HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + flock.port()
          + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      appliance.abort();
      client.abort();
    } finally {
      http.shutdownNow();
    }
  }

  @Test
  void aClientThatDoesNotTrustTheCertificateCannotConnect() throws Exception {
    SelfSigned certificate = SelfSigned.make(dir);
    HttpClient http = HttpClient.newHttpClient(); // the JDK's trust store: not our certificate
    try (Flock flock = Flock.start(FlockConfig.defaults().withServing(Serving.DEFAULTS.withTls(certificate.tls())))) {
      assertThatThrownBy(() -> WsPeer.connect(http, flock.uri().resolve("client")))
          .isInstanceOf(CompletionException.class).hasRootCauseInstanceOf(java.security.cert.CertPathBuilderException.class);
    } finally {
      http.shutdownNow();
    }
  }

  @Test
  void badFilesAreClearMessagesNotStackTraces() throws Exception {
    SelfSigned one = SelfSigned.make(Files.createDirectory(dir.resolve("one")));
    SelfSigned other = SelfSigned.make(Files.createDirectory(dir.resolve("other")));
    Path garbage = Files.writeString(dir.resolve("garbage.pem"), "hello");

    assertThatThrownBy(() -> Flock.start(FlockConfig.defaults().withServing(Serving.DEFAULTS.withTls(
        new Tls(one.certificate(), other.key()))))).isInstanceOf(FlockException.class)
        .hasMessage("TLS: " + other.key() + " is not the key of the first certificate in " + one.certificate());
    assertThatThrownBy(() -> Flock.start(FlockConfig.defaults().withServing(Serving.DEFAULTS.withTls(
        new Tls(garbage, one.key()))))).hasMessageContaining("holds no PEM certificate");
    assertThatThrownBy(() -> Flock.start(FlockConfig.defaults().withServing(Serving.DEFAULTS.withTls(
        new Tls(one.certificate(), one.certificate()))))).hasMessageContaining("holds no PEM private key");
    assertThatThrownBy(() -> Flock.start(FlockConfig.defaults().withServing(Serving.DEFAULTS.withTls(
        new Tls(dir.resolve("missing.pem"), one.key()))))).hasMessageContaining("cannot read");
    Path encrypted = Files.writeString(dir.resolve("enc.pem"), SelfSigned.pem("ENCRYPTED PRIVATE KEY", new byte[] {1}));
    assertThatThrownBy(() -> Flock.start(FlockConfig.defaults().withServing(Serving.DEFAULTS.withTls(
        new Tls(one.certificate(), encrypted))))).hasMessageContaining("encrypted key");
  }
}
