package org.intrustd.appliance.lan;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import javax.jmdns.JmDNS;
import javax.jmdns.ServiceInfo;
import org.intrustd.core.id.ApplianceId;

/**
 * Announces the appliance on its LAN with mDNS/DNS-SD (jmDNS) on the addresses
 * {@link LanInterfaces} chooses. They are looked at again every {@link #RESCAN_SECONDS} s (a
 * DHCP lease changes), and so is the claim state, which {@link #refresh} also updates at once.
 */
public final class LanPresence implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.lan");
  static final int RESCAN_SECONDS = 10;

  private final ApplianceId id;
  private volatile String name;
  private final int port;
  private final List<String> interfaceNames;
  private final BooleanSupplier claimed;
  private final ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().name("lan-presence").daemon().factory());
  // Touched only on the worker thread.
  private final Map<InetAddress, Announcer> announcers = new HashMap<>();
  private PresenceRecord announced;

  private record Announcer(JmDNS mdns, ServiceInfo service) { }

  private LanPresence(ApplianceId id, String name, int port, List<String> interfaceNames, BooleanSupplier claimed) {
    this.id = id;
    this.name = name;
    this.port = port;
    this.interfaceNames = List.copyOf(interfaceNames);
    this.claimed = claimed;
  }

  /**
   * Starts announcing in the background (mDNS probing takes a few seconds, and the daemon
   * must not wait for it).
   */
  public static LanPresence start(ApplianceId id, String name, int port, List<String> interfaceNames,
      BooleanSupplier claimed) {
    LanPresence presence = new LanPresence(id, name, port, interfaceNames, claimed);
    presence.worker.scheduleWithFixedDelay(presence::sync, 0, RESCAN_SECONDS, TimeUnit.SECONDS);
    return presence;
  }

  /** Announces the current claim state now (called when the appliance is claimed). */
  public void refresh() {
    worker.execute(this::sync);
  }

  /** Announces the appliance under a new friendly name from now on. */
  public void rename(String newName) {
    name = newName;
    refresh();
  }

  private PresenceRecord record() {
    return new PresenceRecord(id, name, claimed.getAsBoolean(), port);
  }

  private void sync() {
    try {
      Set<InetAddress> wanted = new LinkedHashSet<>(LanInterfaces.addresses(interfaceNames));
      for (InetAddress gone : new ArrayList<>(announcers.keySet())) {
        if (!wanted.contains(gone)) {
          LOG.log(Level.INFO, "LAN presence: {0} is gone; no longer announcing there", gone.getHostAddress());
          stop(announcers.remove(gone));
        }
      }
      PresenceRecord record = record();
      if (announced != null && !record.equals(announced)) {
        // jmDNS sends a changed TXT record only with its next renewal (the TTL is an hour),
        // so the service is withdrawn and announced again: neighbours see it at once.
        for (InetAddress address : new ArrayList<>(announcers.keySet())) {
          Announcer a = announcers.remove(address);
          a.mdns().unregisterService(a.service());
          register(address, a.mdns(), record);
        }
        announced = record;
      }
      for (InetAddress address : wanted) {
        if (!announcers.containsKey(address)) {
          announce(address, record);
        }
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "LAN presence: " + e.getMessage(), e);
    }
  }

  private void announce(InetAddress address, PresenceRecord record) {
    String host = "intrustd-" + id.toString().substring(0, 7).toLowerCase(Locale.ROOT);
    try {
      register(address, JmDNS.create(address, host), record);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "LAN presence: cannot announce on {0}: {1}", address.getHostAddress(), e.getMessage());
    }
  }

  private void register(InetAddress address, JmDNS mdns, PresenceRecord record) {
    ServiceInfo service = ServiceInfo.create(PresenceRecord.SERVICE_TYPE, record.instanceName(), port, 0, 0,
        record.txt());
    try {
      mdns.registerService(service);
    } catch (IOException e) {
      LOG.log(Level.WARNING, "LAN presence: cannot announce on {0}: {1}", address.getHostAddress(), e.getMessage());
      stop(new Announcer(mdns, service));
      return;
    }
    announcers.put(address, new Announcer(mdns, service));
    announced = record;
    LOG.log(Level.INFO, "LAN presence: announcing ''{0}'' ({1}{2}) on {3} port {4}", service.getName(),
        PresenceRecord.SERVICE_TYPE, record.claimed() ? "" : ", not claimed", address.getHostAddress(),
        Integer.toString(port));
  }

  private static void stop(Announcer a) {
    try {
      a.mdns().unregisterAllServices(); // sends goodbyes, so browsers drop it at once
      a.mdns().close();
    } catch (IOException | RuntimeException e) {
      LOG.log(Level.DEBUG, "LAN presence: closing: {0}", e.getMessage());
    }
  }

  /** Stops announcing: browsers on the LAN are told the appliance is gone. */
  @Override
  public void close() {
    try {
      worker.submit(() -> {
        announcers.values().forEach(LanPresence::stop);
        announcers.clear();
      }).get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.log(Level.DEBUG, "LAN presence: closing: {0}", e.getMessage());
    }
    worker.shutdownNow();
  }
}
