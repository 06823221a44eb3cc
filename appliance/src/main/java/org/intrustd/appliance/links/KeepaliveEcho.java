package org.intrustd.appliance.links;

import java.nio.ByteBuffer;
import org.intrustd.link.Channel;
import org.intrustd.link.ChannelSpec;
import org.intrustd.link.Link;
import org.intrustd.link.LinkException;

/**
 * The appliance's end of a link's pre-negotiated {@code intrustd/keepalive} channel (stream id
 * 0; docs/spec/channels.md): it sends back every probe a client sends, so that a client the
 * flock told "bye" (the appliance re-registered, or moved to another flock) can tell an
 * appliance that still answers from one that is gone.
 */
final class KeepaliveEcho implements Channel.Handler {
  static final String LABEL = "intrustd/keepalive";
  static final int MAX_PROBE = 64;

  private final Channel channel;

  private KeepaliveEcho(Channel channel) {
    this.channel = channel;
  }

  /** Opens the link's keepalive channel and echoes on it. */
  static void attach(Link link) {
    Channel channel = link.openChannel(ChannelSpec.negotiated(LABEL, 0));
    channel.setHandler(new KeepaliveEcho(channel));
  }

  @Override
  public void onOpen() {}

  @Override
  public void onMessage(ByteBuffer data, boolean binary) {
    if (data.remaining() < 1 || data.remaining() > MAX_PROBE) {
      return; // not a probe
    }
    ByteBuffer copy = ByteBuffer.allocate(data.remaining()).put(data.duplicate()).flip();
    // Sent off the engine thread, which must never wait on a channel's send queue.
    Thread.ofVirtual().name("keepalive-echo").start(() -> {
      try {
        channel.send(copy);
      } catch (LinkException | InterruptedException e) {
        // the link is going away: no echo is the right answer
      }
    });
  }

  @Override
  public void onClose() {}
}
