package org.intrustd.appliance.lan;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Which addresses mDNS runs on: the IPv4 addresses of the interfaces named, else of the one
 * that carries the default route, else of the first that is up and multicast-capable. One
 * interface by default, because a host on two interfaces of the same LAN would otherwise see
 * its own announcements as a name conflict. (IPv6 is not announced yet.)
 */
final class LanInterfaces {
  private static final System.Logger LOG = System.getLogger("intrustd.lan");

  private LanInterfaces() { }

  static List<InetAddress> addresses(List<String> names) {
    return addressesOf(choose(names, eligible(), defaultRouteInterface(Path.of("/proc/net/route"))));
  }

  static List<NetworkInterface> choose(List<String> names, List<NetworkInterface> eligible, Optional<String> routed) {
    if (!names.isEmpty()) {
      return eligible.stream().filter(i -> names.contains(i.getName())).toList();
    }
    return eligible.stream().filter(i -> routed.isPresent() && i.getName().equals(routed.get())).findFirst()
        .or(() -> eligible.stream().findFirst()).map(List::of).orElse(List.of());
  }

  private static List<NetworkInterface> eligible() {
    try {
      List<NetworkInterface> all = new ArrayList<>(Collections.list(NetworkInterface.getNetworkInterfaces()));
      all.sort(Comparator.comparingInt(NetworkInterface::getIndex));
      List<NetworkInterface> eligible = new ArrayList<>();
      for (NetworkInterface i : all) {
        if (i.isUp() && !i.isLoopback() && i.supportsMulticast() && !i.isPointToPoint()
            && !addressesOf(List.of(i)).isEmpty()) {
          eligible.add(i);
        }
      }
      return eligible;
    } catch (SocketException e) {
      LOG.log(Level.WARNING, "LAN: cannot list network interfaces: {0}", e.getMessage());
      return List.of();
    }
  }

  private static List<InetAddress> addressesOf(List<NetworkInterface> interfaces) {
    return interfaces.stream().flatMap(NetworkInterface::inetAddresses).filter(a -> a instanceof Inet4Address)
        .map(InetAddress.class::cast).toList();
  }

  /** The interface of the IPv4 default route in a {@code /proc/net/route} table. */
  static Optional<String> defaultRouteInterface(Path routeTable) {
    try {
      return Files.readAllLines(routeTable).stream().skip(1).map(l -> l.trim().split("\\s+"))
          .filter(f -> f.length > 2 && "00000000".equals(f[1])).map(f -> f[0]).findFirst();
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
