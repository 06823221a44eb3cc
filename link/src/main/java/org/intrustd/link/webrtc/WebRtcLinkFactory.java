package org.intrustd.link.webrtc;

import dev.onvoid.webrtc.PeerConnectionFactory;
import dev.onvoid.webrtc.RTCConfiguration;
import dev.onvoid.webrtc.RTCIceServer;
import dev.onvoid.webrtc.RTCPeerConnection;
import dev.onvoid.webrtc.RTCSdpType;
import dev.onvoid.webrtc.RTCSessionDescription;
import dev.onvoid.webrtc.media.audio.HeadlessAudioDeviceModule;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.intrustd.link.Channel;
import org.intrustd.link.ChannelSpec;
import org.intrustd.link.LinkConfig;
import org.intrustd.link.LinkException;
import org.intrustd.link.LinkFactory;
import org.intrustd.link.LinkListener;

/**
 * {@link LinkFactory} on webrtc-java (JNI over libwebrtc). The only class outside this package
 * that names the library is none: callers get it through {@link #create()}.
 *
 * <p>Gotchas handled here (docs in shared/design/webrtc-notes.md): the factory is built with a
 * headless audio module, because the default one aborts the JVM on machines without a sound
 * server; and the factory and every peer connection are disposed on close, because native
 * threads otherwise report errors at exit.
 */
public final class WebRtcLinkFactory implements LinkFactory {
  private final PeerConnectionFactory factory;
  private final Set<WebRtcLink> links = ConcurrentHashMap.newKeySet();
  // Every channel not yet freed, of open and closed links alike: their owners may still call
  // them, so they are retired before the engine (which frees them natively) goes.
  private final Set<WebRtcChannel> channels = ConcurrentHashMap.newKeySet();
  // Closing and freeing native objects happens here, in order, never on libwebrtc's own
  // callback threads; close() drains it before freeing the factory, which would otherwise
  // crash the JVM under a still-running pc.close().
  private final ExecutorService janitor = Executors.newSingleThreadExecutor(
      Thread.ofPlatform().name("webrtc-janitor").daemon().factory());
  // Freed after the factory: its thread ("AudioDeviceBuffer") otherwise outlives the factory
  // and, at JVM exit, prints "Failed to attach thread" on standard output.
  private final HeadlessAudioDeviceModule audio;
  // ICE may move a connected link to another candidate pair (a direct one found after the
  // relay's, say); libwebrtc has no event for it in this binding, so the stats are read now and then.
  private final ScheduledExecutorService pathWatch = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().name("webrtc-paths").daemon().factory());
  private volatile boolean closed;

  /** How often connected links re-read their selected candidate pair. */
  static final long PATH_REFRESH_SECONDS = 5;

  private WebRtcLinkFactory() {
    this.audio = new HeadlessAudioDeviceModule();
    this.factory = new PeerConnectionFactory(audio);
    pathWatch.scheduleWithFixedDelay(() -> links.forEach(l -> {
      if (l.state() == org.intrustd.link.LinkState.CONNECTED) {
        l.refreshPath();
      }
    }), PATH_REFRESH_SECONDS, PATH_REFRESH_SECONDS, TimeUnit.SECONDS);
  }

  /** Loads the native engine; fails with a {@link LinkException} naming what is missing. */
  public static LinkFactory create() {
    try {
      return new WebRtcLinkFactory();
    } catch (UnsatisfiedLinkError | ExceptionInInitializerError | NoClassDefFoundError e) {
      throw new LinkException("cannot load the WebRTC engine (libwebrtc needs libpulse0, libx11-6, libxfixes3, "
          + "libxrandr2, libxcomposite1, libdbus-1-3 and libudev1, and an exec-able java.io.tmpdir): " + e, e);
    }
  }

  @Override
  public PendingAnswer answer(String offerSdp, LinkConfig config, LinkListener listener) {
    WebRtcLink link = newLink(config, listener);
    try {
      Async.set(done -> link.pc().setRemoteDescription(new RTCSessionDescription(RTCSdpType.OFFER, offerSdp), done));
      link.remoteDescriptionSet();
      RTCSessionDescription answer = Async.create(done -> link.pc().createAnswer(new dev.onvoid.webrtc.RTCAnswerOptions(), done));
      return new PendingAnswer() {
        @Override
        public String sdp() {
          return answer.sdp;
        }

        @Override
        public org.intrustd.link.Link link() {
          return link;
        }

        @Override
        public void apply() {
          Async.set(done -> link.pc().setLocalDescription(answer, done));
        }
      };
    } catch (LinkException e) {
      link.close();
      throw e;
    }
  }

  @Override
  public PendingOffer offer(ChannelSpec firstChannel, LinkConfig config, LinkListener listener) {
    WebRtcLink link = newLink(config, listener);
    try {
      Channel first = link.openChannel(firstChannel);
      RTCSessionDescription offer = Async.create(done -> link.pc().createOffer(new dev.onvoid.webrtc.RTCOfferOptions(), done));
      Async.set(done -> link.pc().setLocalDescription(offer, done));
      return new PendingOffer() {
        @Override
        public String sdp() {
          return offer.sdp;
        }

        @Override
        public org.intrustd.link.Link link() {
          return link;
        }

        @Override
        public Channel firstChannel() {
          return first;
        }

        @Override
        public void accept(String answerSdp) {
          Async.set(done -> link.pc().setRemoteDescription(new RTCSessionDescription(RTCSdpType.ANSWER, answerSdp), done));
          link.remoteDescriptionSet();
        }
      };
    } catch (LinkException e) {
      link.close();
      throw e;
    }
  }

  private WebRtcLink newLink(LinkConfig config, LinkListener listener) {
    if (closed) {
      throw new LinkException("the link factory is closed");
    }
    RTCConfiguration rtc = new RTCConfiguration();
    for (LinkConfig.IceServer s : config.iceServers()) {
      RTCIceServer server = new RTCIceServer();
      server.urls = s.urls();
      s.username().ifPresent(u -> server.username = u);
      s.credential().ifPresent(c -> server.password = c);
      rtc.iceServers.add(server);
    }
    WebRtcLink link = new WebRtcLink(listener, links::remove, janitor, channels, pathWatch);
    RTCPeerConnection pc = factory.createPeerConnection(rtc, link.observer());
    if (pc == null) {
      throw new LinkException("libwebrtc refused to create a peer connection");
    }
    link.attach(pc);
    links.add(link);
    return link;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    pathWatch.shutdownNow();
    for (WebRtcLink link : links) {
      link.close();
    }
    janitor.shutdown();
    try {
      if (!janitor.awaitTermination(10, TimeUnit.SECONDS)) {
        return; // leak the native factory rather than free it under a running close
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    channels.forEach(WebRtcChannel::retire);
    factory.dispose();
    audio.dispose();
  }
}
