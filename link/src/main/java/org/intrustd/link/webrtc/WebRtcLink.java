package org.intrustd.link.webrtc;

import dev.onvoid.webrtc.PeerConnectionObserver;
import dev.onvoid.webrtc.RTCDataChannel;
import dev.onvoid.webrtc.RTCDataChannelInit;
import dev.onvoid.webrtc.RTCIceCandidate;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCPeerConnectionState;
import dev.onvoid.webrtc.RTCStatsReport;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.intrustd.link.Channel;
import org.intrustd.link.ChannelSpec;
import org.intrustd.link.IceCandidate;
import org.intrustd.link.Link;
import org.intrustd.link.LinkException;
import org.intrustd.link.LinkListener;
import org.intrustd.link.LinkPath;
import org.intrustd.link.LinkState;

/** One peer connection. Remote candidates that arrive before the remote description wait. */
final class WebRtcLink implements Link {
  private static final SecureRandom RANDOM = new SecureRandom();
  /**
   * How long after a channel closes (or this end starts closing it) this end waits before
   * opening another. libwebrtc gives a
   * new channel the lowest free stream id, so it reuses the id of a channel that just closed;
   * for a moment after that close, what the peer sends on the reused id can still be routed to
   * the old channel and is lost (measured here: one lost exchange in 8 to 49 back-to-back
   * pairs; none in 120 with this pause). Only the opening side (clients) pays it, and only for
   * a channel opened right after another closed.
   */
  static final long REUSE_PAUSE_NANOS = 300_000_000L;

  /** When a connected link reads its path again, besides the factory's regular reads. */
  private static final long[] SETTLING_READS_MS = {500, 1500, 3000, 6000};

  private final String id;
  private final java.util.concurrent.ScheduledExecutorService pathWatch;
  private final LinkListener listener;
  private final Consumer<WebRtcLink> onClosed;
  private final Executor janitor;
  private final Set<WebRtcChannel> engineChannels;
  private final Set<WebRtcChannel> channels = ConcurrentHashMap.newKeySet();
  private final List<IceCandidate> early = new ArrayList<>();
  private RTCPeerConnection pc;
  private boolean remoteSet;
  private volatile LinkState state = LinkState.NEW;
  private volatile LinkPath path = LinkPath.UNKNOWN;
  private volatile boolean closed;
  private volatile long lastChannelClosed = System.nanoTime() - REUSE_PAUSE_NANOS;

  WebRtcLink(LinkListener listener, Consumer<WebRtcLink> onClosed, Executor janitor, Set<WebRtcChannel> engineChannels,
      java.util.concurrent.ScheduledExecutorService pathWatch) {
    this.pathWatch = pathWatch;
    this.engineChannels = engineChannels;
    this.janitor = janitor;
    byte[] b = new byte[8];
    RANDOM.nextBytes(b);
    this.id = HexFormat.of().formatHex(b);
    this.listener = listener;
    this.onClosed = onClosed;
  }

  void attach(RTCPeerConnection pc) {
    this.pc = pc;
  }

  RTCPeerConnection pc() {
    return pc;
  }

  PeerConnectionObserver observer() {
    return new PeerConnectionObserver() {
      @Override
      public void onIceCandidate(RTCIceCandidate c) {
        Guard.run("local candidate",
            () -> listener.onLocalCandidate(new IceCandidate(c.sdp, Optional.ofNullable(c.sdpMid), c.sdpMLineIndex)));
      }

      @Override
      public void onDataChannel(RTCDataChannel dc) {
        WebRtcChannel channel = track(new WebRtcChannel(dc, janitor));
        Guard.run("new channel", () -> listener.onChannel(channel));
      }

      @Override
      public void onConnectionChange(RTCPeerConnectionState s) {
        LinkState next = switch (s) {
          case NEW -> LinkState.NEW;
          case CONNECTING -> LinkState.CONNECTING;
          case CONNECTED -> LinkState.CONNECTED;
          case DISCONNECTED -> LinkState.DISCONNECTED;
          case FAILED -> LinkState.FAILED;
          case CLOSED -> LinkState.CLOSED;
        };
        if (!state.isFinal()) {
          state = next;
          Guard.run("link state", () -> listener.onStateChange(next));
          if (next == LinkState.CONNECTED) {
            refreshPath();
            // ICE often settles on its best pair a moment after the first one works (a direct
            // pair found after the relay's): look again soon, then every few seconds (the factory).
            if (pathWatch != null) {
              for (long ms : SETTLING_READS_MS) {
                try {
                  pathWatch.schedule(WebRtcLink.this::refreshPath, ms, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                  break; // the factory is closing
                }
              }
            }
          }
        }
      }
    };
  }

  /**
   * Reads the selected candidate pair from the stats, on the janitor (libwebrtc must not be
   * re-entered from its callbacks), and tells the listener when the path changed.
   */
  void refreshPath() {
    if (closed) {
      return;
    }
    try {
      janitor.execute(() -> {
        if (!closed) {
          pc.getStats(report -> Guard.run("link path", () -> notePath(LinkPath.fromStats(attributes(report)))));
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // the factory is closing
    }
  }

  private void notePath(LinkPath next) {
    synchronized (early) {
      if (closed || next == LinkPath.UNKNOWN || next == path) {
        return;
      }
      path = next;
    }
    listener.onPathChange(next);
  }

  /** A stats report as id → attributes, with the W3C type name under "type". */
  static Map<String, Map<String, Object>> attributes(RTCStatsReport report) {
    Map<String, Map<String, Object>> out = new HashMap<>();
    report.getStats().forEach((id, stat) -> {
      Map<String, Object> a = new HashMap<>(stat.getAttributes());
      a.put("type", stat.getType().name().toLowerCase(Locale.ROOT).replace('_', '-'));
      out.put(id, a);
    });
    return out;
  }

  @Override
  public LinkPath path() {
    return path;
  }

  private WebRtcChannel track(WebRtcChannel channel) {
    channels.add(channel);
    engineChannels.add(channel);
    channel.onClosing(() -> lastChannelClosed = System.nanoTime());
    channel.onFinished(() -> {
      lastChannelClosed = System.nanoTime();
      channels.remove(channel);
      engineChannels.remove(channel);
    });
    return channel;
  }

  void remoteDescriptionSet() {
    List<IceCandidate> pending;
    synchronized (early) {
      remoteSet = true;
      pending = List.copyOf(early);
      early.clear();
    }
    pending.forEach(this::addRemoteCandidate);
  }

  @Override
  public String id() {
    return id;
  }

  @Override
  public void addRemoteCandidate(IceCandidate c) {
    synchronized (early) {
      if (!remoteSet) {
        early.add(c);
        return;
      }
    }
    if (c.candidate().isEmpty() || closed) {
      return; // end of candidates: libwebrtc needs no signal for it
    }
    pc.addIceCandidate(new RTCIceCandidate(c.sdpMid().orElse(null), c.sdpMLineIndex(), c.candidate()));
  }

  @Override
  public Channel openChannel(ChannelSpec spec) {
    if (closed) {
      throw new LinkException("link " + id + " is closed");
    }
    // A negotiated channel has a fixed id that is never reused, so it never waits.
    long wait = spec.negotiatedId() >= 0 ? 0 : lastChannelClosed + REUSE_PAUSE_NANOS - System.nanoTime();
    if (wait > 0) {
      try {
        java.util.concurrent.TimeUnit.NANOSECONDS.sleep(wait);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new LinkException("interrupted while opening a channel");
      }
    }
    RTCDataChannelInit init = new RTCDataChannelInit();
    init.ordered = true;
    init.protocol = spec.protocol();
    if (spec.negotiatedId() >= 0) {
      init.negotiated = true;
      init.id = spec.negotiatedId();
    }
    return track(new WebRtcChannel(pc.createDataChannel(spec.label(), init), janitor));
  }

  @Override
  public LinkState state() {
    return state;
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    for (WebRtcChannel c : channels) {
      c.close();
    }
    // libwebrtc must not be re-entered from its own callback threads; close on the janitor.
    try {
      janitor.execute(this::closeNative);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      onClosed.accept(this); // the factory is shutting down and frees the engine itself
    }
  }

  private void closeNative() {
    pc.close();
    // Closing the peer connection ends its channels, but libwebrtc does not always report their
    // CLOSED state after that (seen once in CI: a handler never heard of the close). Say it here.
    for (WebRtcChannel c : channels) {
      c.ended();
    }
    if (!state.isFinal()) {
      state = LinkState.CLOSED;
      listener.onStateChange(LinkState.CLOSED);
    }
    onClosed.accept(this);
  }
}
