package org.intrustd.link;

/**
 * Makes peer-to-peer links. The rest of the code sees only this package, never the WebRTC
 * library, so that the library can be replaced (a pure-Java stack, another binding). One
 * factory per process; thread-safe.
 */
public interface LinkFactory extends AutoCloseable {

  /** Starts answering a remote offer. Throws {@link LinkException} when the offer is unusable. */
  PendingAnswer answer(String offerSdp, LinkConfig config, LinkListener listener);

  /** Starts an offer with a first data channel already in it (an offer needs one). */
  PendingOffer offer(ChannelSpec firstChannel, LinkConfig config, LinkListener listener);

  /** Closes every link and frees the native engine. */
  @Override
  void close();

  /**
   * An answer that has been created but not yet applied. Send {@link #sdp()} to the peer
   * first, then {@link #apply()}: applying starts ICE, and a trickled candidate must not
   * overtake the answer on the signalling path.
   */
  interface PendingAnswer {
    String sdp();

    Link link();

    void apply();
  }

  /** An offer whose answer is still to come. */
  interface PendingOffer {
    String sdp();

    Link link();

    /** The first channel, opened once the link connects. */
    Channel firstChannel();

    void accept(String answerSdp);
  }
}
