package org.intrustd.link;

import java.util.Optional;

/** A trickled ICE candidate: the SDP attribute value without "a=", its m-line and mid. */
public record IceCandidate(String candidate, Optional<String> sdpMid, int sdpMLineIndex) {}
