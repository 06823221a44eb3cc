package org.intrustd.link;

/** What a data channel is for: its label and sub-protocol. Channels are reliable and ordered. */
public record ChannelSpec(String label, String protocol) {}
