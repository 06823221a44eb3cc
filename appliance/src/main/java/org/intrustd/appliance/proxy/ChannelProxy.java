package org.intrustd.appliance.proxy;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.link.Channel;
import org.intrustd.link.Link;

/**
 * Accepts the data channels a client opens and runs one {@link Exchange} per channel
 * (docs/spec/channels.md): a channel labelled {@code http/<app-id>} with protocol
 * {@code intrustd/1} carries one HTTP/1.1 exchange with that app. Thread-safe.
 */
public final class ChannelProxy implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.proxy");
  public static final String PROTOCOL = "intrustd/1";
  private static final Pattern LABEL = Pattern.compile("http/([a-z0-9][a-z0-9-]{0,62})");

  private final AppSupervisor apps;
  private final ApplianceId applianceId;
  private final ExecutorService exchanges = Executors.newThreadPerTaskExecutor(
      Thread.ofVirtual().name("exchange-", 0).factory());

  public ChannelProxy(AppSupervisor apps, ApplianceId applianceId) {
    this.apps = apps;
    this.applianceId = applianceId;
  }

  /** Takes over a channel the peer opened on {@code link}; call from the link's onChannel. */
  public void accept(Link link, Channel channel) {
    String label = channel.label();
    String protocol = channel.protocol();
    Matcher m = LABEL.matcher(label);
    if (!m.matches() || !PROTOCOL.equals(protocol)) {
      LOG.log(Level.INFO, "[{0}] refused channel labelled ''{1}'' (protocol ''{2}'')", link.id(),
          printable(label), printable(protocol));
      Exchange.refuse(channel, "unknown channel: label must be http/<app-id> and protocol " + PROTOCOL);
      return;
    }
    String appId = m.group(1);
    Map<String, String> trusted = Map.of("X-Intrustd-Appliance", applianceId.toString(), "X-Intrustd-Link", link.id());
    Exchange exchange = new Exchange(link.id(), appId, channel, apps, trusted);
    channel.setHandler(exchange);
    exchanges.execute(exchange::run);
  }

  private static String printable(String s) {
    String cut = s.length() > 80 ? s.substring(0, 80) : s;
    return cut.replaceAll("[^\\x20-\\x7e]", "?");
  }

  /** Ends every exchange (each resets its channel) and waits briefly for them to finish. */
  @Override
  public void close() {
    exchanges.shutdownNow();
    try {
      if (!exchanges.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS)) {
        LOG.log(Level.WARNING, "some exchanges did not end within 5 s of shutdown");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
