package org.intrustd.appliance.lan;

import java.lang.System.Logger.Level;
import java.net.URI;
import java.util.Set;
import org.intrustd.appliance.flock.FlockConnection;
import org.intrustd.appliance.links.LinkSessions;
import org.intrustd.core.identity.Identity;
import org.intrustd.flock.Flock;
import org.intrustd.flock.FlockConfig;
import org.intrustd.flock.FlockException;

/**
 * The appliance's own flock on the LAN (docs/lan.md): a flock that admits only this appliance,
 * listening on every interface, so that a client on the LAN (the CLI, a laptop) reaches the
 * appliance with no flock on the internet and no internet at all. The appliance registers with
 * it like with any flock, so links made through it are the same signed, end-to-end ones. If
 * the configured port is taken (another appliance on this host), it takes any free port: the
 * LAN presence record names the real one.
 */
public final class LanFlock implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.lan");

  private final Flock flock;
  private final FlockConnection connection;

  private LanFlock(Flock flock, FlockConnection connection) {
    this.flock = flock;
    this.connection = connection;
  }

  /** Starts the flock and registers with it; throws {@link FlockException} when no port can be had. */
  public static LanFlock start(Identity identity, String name, int port, LinkSessions.Signalling signalling) {
    FlockConfig config = FlockConfig.defaults().withHost("0.0.0.0").admitting(Set.of(identity.id()));
    Flock flock;
    try {
      flock = Flock.start(config.withPort(port));
    } catch (FlockException e) {
      if (port == 0) {
        throw e;
      }
      LOG.log(Level.WARNING, "LAN flock: port {0} is taken; using another one", Integer.toString(port));
      flock = Flock.start(config.withPort(0));
    }
    FlockConnection connection = new FlockConnection(URI.create("ws://127.0.0.1:" + flock.port() + "/"), identity, name,
        signalling);
    signalling.attach(connection);
    connection.start();
    LOG.log(Level.INFO, "LAN flock: clients on the LAN reach this appliance at ws://<this host>:{0}/",
        Integer.toString(flock.port()));
    return new LanFlock(flock, connection);
  }

  /** The TCP port it listens on. */
  public int port() {
    return flock.port();
  }

  public boolean isRegistered() {
    return connection.isRegistered();
  }

  /** Registers under a new friendly name (the name LAN clients see in the flock's answers). */
  public void rename(String name) {
    connection.retarget(URI.create("ws://127.0.0.1:" + flock.port() + "/"), name);
  }

  @Override
  public void close() {
    connection.close();
    flock.close();
  }
}
