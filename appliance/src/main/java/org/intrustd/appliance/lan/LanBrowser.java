package org.intrustd.appliance.lan;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.jmdns.JmDNS;
import javax.jmdns.ServiceEvent;
import javax.jmdns.ServiceInfo;
import javax.jmdns.ServiceListener;

/**
 * Finds appliances on the LAN: browses {@code _intrustd._tcp} on the addresses
 * {@link LanInterfaces} chooses for the given time, and keeps the records that are valid
 * intrustd presence records (docs/spec/lan.md) and resolved to an address; anything else a
 * neighbour announces under that type is ignored.
 */
public final class LanBrowser {
  private static final System.Logger LOG = System.getLogger("intrustd.lan");

  private LanBrowser() { }

  /** An appliance seen on the LAN, at the addresses its record resolved to. */
  public record Found(PresenceRecord record, String instanceName, List<String> addresses) { }

  /** Browses for {@code wait}; one entry per appliance ID, sorted by name. */
  public static List<Found> browse(Duration wait, List<String> interfaceNames) {
    List<InetAddress> on = LanInterfaces.addresses(interfaceNames);
    List<CompletableFuture<ServiceInfo[]>> lists = new ArrayList<>();
    for (InetAddress address : on) {
      lists.add(CompletableFuture.supplyAsync(() -> listOn(address, wait)));
    }
    Map<String, Found> byId = new LinkedHashMap<>();
    for (CompletableFuture<ServiceInfo[]> list : lists) {
      for (ServiceInfo info : list.join()) {
        found(info).ifPresent(f -> byId.merge(f.record().id().toString(), f, (a, b) -> a));
      }
    }
    List<Found> all = new ArrayList<>(byId.values());
    all.sort((a, b) -> a.record().name().compareToIgnoreCase(b.record().name()));
    return all;
  }

  /**
   * Looks for one appliance: returns as soon as its record resolves (usually well under a
   * second), or empty after {@code wait}.
   */
  public static Optional<Found> find(org.intrustd.core.id.ApplianceId id, Duration wait, List<String> interfaceNames) {
    CompletableFuture<Found> hit = new CompletableFuture<>();
    List<JmDNS> open = new ArrayList<>();
    try {
      for (InetAddress address : LanInterfaces.addresses(interfaceNames)) {
        JmDNS mdns = JmDNS.create(address, null);
        open.add(mdns);
        mdns.addServiceListener(PresenceRecord.SERVICE_TYPE, new ServiceListener() {
          @Override
          public void serviceAdded(ServiceEvent event) {
            event.getDNS().requestServiceInfo(event.getType(), event.getName(), 1);
          }

          @Override
          public void serviceRemoved(ServiceEvent event) { }

          @Override
          public void serviceResolved(ServiceEvent event) {
            found(event.getInfo()).filter(f -> f.record().id().equals(id)).ifPresent(hit::complete);
          }
        });
      }
      return Optional.of(hit.get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
    } catch (java.util.concurrent.TimeoutException e) {
      return Optional.empty();
    } catch (IOException | java.util.concurrent.ExecutionException e) {
      LOG.log(Level.WARNING, "LAN: cannot browse: {0}", e.getMessage());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    } finally {
      for (JmDNS mdns : open) {
        try {
          mdns.close();
        } catch (IOException e) {
          // closing anyway
        }
      }
    }
  }

  private static ServiceInfo[] listOn(InetAddress address, Duration wait) {
    try (JmDNS mdns = JmDNS.create(address, null)) {
      return mdns.list(PresenceRecord.SERVICE_TYPE, wait.toMillis());
    } catch (IOException e) {
      LOG.log(Level.WARNING, "LAN: cannot browse on {0}: {1}", address.getHostAddress(), e.getMessage());
      return new ServiceInfo[0];
    }
  }

  /** A valid record that resolved to at least one address (without one it cannot be reached). */
  static Optional<Found> found(ServiceInfo info) {
    List<String> addresses = Arrays.stream(info.getHostAddresses()).toList();
    if (addresses.isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> txt = new LinkedHashMap<>();
    for (String key : Collections.list(info.getPropertyNames())) {
      String value = info.getPropertyString(key);
      if (value != null) {
        txt.put(key, value);
      }
    }
    return PresenceRecord.parse(txt, info.getName(), info.getPort()).map(r -> new Found(r, info.getName(), addresses));
  }
}
