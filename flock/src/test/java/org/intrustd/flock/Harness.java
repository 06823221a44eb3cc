package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.intrustd.core.identity.Identity;
import org.intrustd.core.signal.SignalMessage.Challenge;
import org.intrustd.core.signal.SignalMessage.Hello;
import org.intrustd.core.signal.SignalMessage.Register;
import org.intrustd.core.signal.SignalMessage.Registered;

/** A real flock on an ephemeral loopback port and the peers a test opened; closes them all. */
final class Harness implements AutoCloseable {
  final Flock flock;
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<WsPeer> peers = new CopyOnWriteArrayList<>();

  Harness(FlockConfig config) {
    this(Flock.start(config));
  }

  /** Peers on a flock the test started (a cluster node); closing the harness closes it. */
  Harness(Flock running) {
    flock = running;
  }

  Harness() {
    this(FlockConfig.defaults());
  }

  HttpClient http() {
    return http;
  }

  /** A raw connection to {@code /appliance}; the challenge is still unread. */
  WsPeer applianceSocket() {
    return open("appliance");
  }

  /** A raw connection to {@code /client}; the hello is still unread. */
  WsPeer clientSocket() {
    return open("client");
  }

  /** A client that has read its hello. */
  WsPeer client() {
    WsPeer client = clientSocket();
    client.nextClient(Hello.class);
    return client;
  }

  /** An appliance connection that has registered {@code identity}. */
  WsPeer appliance(Identity identity) {
    WsPeer appliance = applianceSocket();
    Challenge challenge = appliance.nextAppliance(Challenge.class);
    appliance.send(new Register(identity.publicKey(), "test box", identity.signRegistration(challenge.nonce())));
    assertThat(appliance.nextAppliance(Registered.class).appliance()).isEqualTo(identity.id().toString());
    return appliance;
  }

  private WsPeer open(String path) {
    WsPeer peer = WsPeer.connect(http, flock.uri().resolve(path));
    peers.add(peer);
    return peer;
  }

  @Override
  public void close() {
    peers.forEach(WsPeer::abort);
    flock.close();
    http.shutdownNow();
  }
}
