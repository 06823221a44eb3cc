package org.intrustd.appliance.lan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LanInterfacesTest {
  @Test
  void theDefaultRouteIsTheRowWithTheZeroDestination(@TempDir Path tmp) throws Exception {
    Path table = tmp.resolve("route");
    Files.writeString(table, """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
        docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
        wlan0\t00000000\t0102A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0
        wlan0\t0002A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0
        """);
    assertThat(LanInterfaces.defaultRouteInterface(table)).contains("wlan0");
  }

  @Test
  void noDefaultRouteOrNoTableIsEmpty(@TempDir Path tmp) throws Exception {
    Path table = tmp.resolve("route");
    Files.writeString(table, "Iface\tDestination\tGateway\nveth0\t000012C6\t00000000\n");
    assertThat(LanInterfaces.defaultRouteInterface(table)).isEmpty();
    assertThat(LanInterfaces.defaultRouteInterface(tmp.resolve("missing"))).isEmpty();
  }

  @Test
  void namedInterfacesThatDoNotExistChooseNothing() {
    assertThat(LanInterfaces.choose(java.util.List.of("nosuch0"), java.util.List.of(), Optional.of("eth0"))).isEmpty();
  }
}
