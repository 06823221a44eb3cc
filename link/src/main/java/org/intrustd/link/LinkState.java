package org.intrustd.link;

/** The life of a link, as the peer connection's state. */
public enum LinkState {
  NEW, CONNECTING, CONNECTED, DISCONNECTED, FAILED, CLOSED;

  /** True for states a link never leaves. */
  public boolean isFinal() {
    return this == FAILED || this == CLOSED;
  }
}
