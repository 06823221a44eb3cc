package org.intrustd.link;

import java.nio.ByteBuffer;

/**
 * A reliable, ordered data channel. Thread-safe. Sending applies back-pressure: {@link #send}
 * blocks (call it from a virtual thread) while more than {@link #HIGH_WATER} bytes are queued,
 * because libwebrtc closes a channel whose queue passes 16 MiB.
 */
public interface Channel {
  int HIGH_WATER = 1 << 20;

  /** The label; never null ("" when the peer gave none). */
  String label();

  /** The sub-protocol; never null ("" when the peer gave none). */
  String protocol();

  /**
   * Sets where incoming events go. {@code onMessage} runs on an engine thread, in order; it may
   * block briefly to push back on the sender (SCTP then slows the peer), but never for long,
   * since the link's other channels share that thread.
   */
  void setHandler(Handler handler);

  /** Sends one binary message (its remaining bytes; copied before returning). */
  void send(ByteBuffer message) throws InterruptedException;

  boolean isOpen();

  /** Closes the channel; queued messages are still delivered by the engine. Idempotent. */
  void close();

  /** Receives a channel's events. */
  interface Handler {
    void onOpen();

    /** A message; the buffer is only valid during the call. */
    void onMessage(ByteBuffer data, boolean binary);

    void onClose();
  }
}
