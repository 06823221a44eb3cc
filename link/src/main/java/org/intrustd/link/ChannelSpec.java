package org.intrustd.link;

/**
 * What a data channel is for: its label and sub-protocol. Channels are reliable and ordered.
 * {@code negotiatedId} is -1 for a channel announced to the peer in-band (the usual case), or
 * the stream id both ends agreed on beforehand, for a channel each end creates itself.
 */
public record ChannelSpec(String label, String protocol, int negotiatedId) {
  public ChannelSpec {
    if (negotiatedId < -1 || negotiatedId > 65_534) {
      throw new IllegalArgumentException("a negotiated stream id is 0 to 65,534, not " + negotiatedId);
    }
  }

  public ChannelSpec(String label, String protocol) {
    this(label, protocol, -1);
  }

  /** A channel both ends create with the same stream id, with no in-band announcement. */
  public static ChannelSpec negotiated(String label, int id) {
    return new ChannelSpec(label, "", id);
  }
}
