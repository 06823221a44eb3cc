package org.intrustd.flock.load;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * A minimal non-blocking WebSocket client connection on a {@link Loop}: upgrade, text frames in
 * and out, ping → pong, close. Everything runs on the loop's thread. Subclasses speak the
 * flock protocol (or the echo baseline's) on top. What an idle connection holds: the channel,
 * its key and these few fields; a partial frame is copied out of the loop's read buffer only
 * when a read ends mid-frame.
 */
abstract class WsConnection {
  /** No message of the flock comes near this; a bigger frame means the peer went wrong. */
  private static final int MAX_FRAME = 256 * 1024 - 16;
  private static final int MAX_HEAD = 16 * 1024;

  enum State { CONNECTING, UPGRADING, OPEN, CLOSING, CLOSED }

  final Loop loop;
  private final InetSocketAddress server;
  private final InetAddress source;
  private final String path;
  private SocketChannel channel;
  private SelectionKey key;
  private State state = State.CONNECTING;
  private byte[] pending;
  private ArrayDeque<ByteBuffer> out;
  private ByteArrayOutputStream fragments;

  WsConnection(Loop loop, InetSocketAddress server, InetAddress source, String path) {
    this.loop = loop;
    this.server = server;
    this.source = source;
    this.path = path;
  }

  /** The upgrade went through: the connection is open. */
  abstract void opened();

  /** One whole text message. */
  abstract void text(String text);

  /** The connection is over, for {@code why}. Called once, also when it never opened. */
  abstract void ended(String why);

  final State state() {
    return state;
  }

  /** Opens the TCP connection from {@link #source}; loop thread only. */
  final void start() {
    try {
      channel = SocketChannel.open();
      channel.configureBlocking(false);
      channel.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
      channel.bind(new InetSocketAddress(source, 0));
      if (channel.connect(server)) {
        key = loop.register(channel, SelectionKey.OP_READ, this);
        upgrade();
      } else {
        key = loop.register(channel, SelectionKey.OP_CONNECT, this);
      }
    } catch (IOException | RuntimeException e) {
      finish("cannot connect from " + source.getHostAddress() + ": " + e);
    }
  }

  /** One text message to the server. */
  final void send(String text) {
    send(WsFrames.text(text, loop.random.nextInt()));
  }

  /** A clean close: close frame, then the server's close ends it. */
  final void close() {
    if (state == State.OPEN) {
      send(WsFrames.clientFrame(WsFrames.CLOSE, new byte[] {0x03, (byte) 0xE8}, loop.random.nextInt()));
      state = State.CLOSING;
    } else if (state != State.CLOSED && state != State.CLOSING) {
      finish("closed before it opened");
    }
  }

  /** Drops the connection without a close frame, as a crashed appliance would. */
  final void abort() {
    finish("aborted");
  }

  /** The selector has something for this connection. */
  final void ready(SelectionKey k) {
    try {
      if (!k.isValid()) {
        return;
      }
      if (k.isConnectable()) {
        channel.finishConnect();
        k.interestOps(SelectionKey.OP_READ);
        upgrade();
        return;
      }
      if (k.isWritable()) {
        flush();
      }
      if (k.isValid() && k.isReadable()) {
        read();
      }
    } catch (IOException e) {
      finish("connection lost: " + e.getMessage());
    }
  }

  private void upgrade() throws IOException {
    state = State.UPGRADING;
    String hostPort = server.getAddress().getHostAddress() + ":" + server.getPort();
    send(ByteBuffer.wrap(WsFrames.upgradeRequest(hostPort, path, loop.random)));
  }

  private void send(ByteBuffer frame) {
    if (state == State.CLOSED || state == State.CLOSING) {
      return;
    }
    if (out == null) {
      try {
        channel.write(frame);
      } catch (IOException e) {
        finish("write failed: " + e.getMessage());
        return;
      }
      if (!frame.hasRemaining()) {
        return;
      }
      out = new ArrayDeque<>();
      key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
    }
    out.add(frame);
  }

  private void flush() throws IOException {
    while (out != null) {
      ByteBuffer head = out.peek();
      channel.write(head);
      if (head.hasRemaining()) {
        return;
      }
      out.poll();
      if (out.isEmpty()) {
        out = null;
        key.interestOps(SelectionKey.OP_READ);
      }
    }
  }

  private void read() throws IOException {
    ByteBuffer buf = loop.readBuffer();
    buf.clear();
    if (pending != null) {
      buf.put(pending);
      pending = null;
    }
    int n = channel.read(buf);
    if (n < 0) {
      finish(state == State.CLOSING ? "closed" : "closed by the server without a close frame");
      return;
    }
    byte[] data = buf.array();
    int end = buf.position();
    int p = 0;
    if (state == State.UPGRADING) {
      int head = WsFrames.endOfHead(data, 0, end);
      if (head < 0) {
        if (end > MAX_HEAD) {
          finish("no end of the upgrade response in " + end + " bytes");
        } else {
          pending = Arrays.copyOf(data, end);
        }
        return;
      }
      String status = new String(data, 0, Math.min(head, 64), StandardCharsets.US_ASCII);
      if (!status.startsWith("HTTP/1.1 101")) {
        finish("upgrade refused: " + status.lines().findFirst().orElse(""));
        return;
      }
      state = State.OPEN;
      opened();
      p = head;
    }
    p = frames(data, p, end);
    if (p >= 0 && p < end && state != State.CLOSED) {
      pending = Arrays.copyOfRange(data, p, end);
    }
  }

  /** Handles the whole frames in {@code data[p, end)}; returns where the partial one starts, -1 once closed. */
  private int frames(byte[] data, int p, int end) {
    while (end - p >= 2 && state != State.CLOSED) {
      int b0 = data[p] & 0xff;
      int b1 = data[p + 1] & 0xff;
      long len = b1 & 0x7f;
      int header = 2;
      if (len == 126) {
        if (end - p < 4) {
          break;
        }
        len = ((data[p + 2] & 0xff) << 8) | (data[p + 3] & 0xff);
        header = 4;
      } else if (len == 127) {
        if (end - p < 10) {
          break;
        }
        len = 0;
        for (int i = 0; i < 8; i++) {
          len = (len << 8) | (data[p + 2 + i] & 0xff);
        }
        header = 10;
      }
      if ((b1 & 0x80) != 0 || len > MAX_FRAME) {
        finish("bad frame from the server (masked or " + len + " bytes)");
        return -1;
      }
      if (end - p - header < len) {
        break;
      }
      frame(b0, data, p + header, (int) len);
      p += header + (int) len;
    }
    return state == State.CLOSED ? -1 : p;
  }

  private void frame(int b0, byte[] data, int off, int len) {
    boolean fin = (b0 & 0x80) != 0;
    switch (b0 & 0x0f) {
      case WsFrames.TEXT -> {
        if (fin) {
          text(new String(data, off, len, StandardCharsets.UTF_8));
        } else {
          fragments = new ByteArrayOutputStream();
          fragments.write(data, off, len);
        }
      }
      case WsFrames.CONTINUATION -> {
        if (fragments != null) {
          fragments.write(data, off, len);
          if (fin) {
            String whole = fragments.toString(StandardCharsets.UTF_8);
            fragments = null;
            text(whole);
          }
        }
      }
      case WsFrames.CLOSE -> {
        int code = len >= 2 ? ((data[off] & 0xff) << 8) | (data[off + 1] & 0xff) : 1005;
        String reason = len > 2 ? new String(data, off + 2, len - 2, StandardCharsets.UTF_8) : "";
        if (state == State.OPEN) {
          send(WsFrames.clientFrame(WsFrames.CLOSE, Arrays.copyOfRange(data, off, off + Math.min(len, 2)),
              loop.random.nextInt()));
        }
        finish(state == State.CLOSING ? "closed" : "closed by the server " + code + " " + reason);
      }
      case WsFrames.PING -> send(WsFrames.clientFrame(WsFrames.PONG, Arrays.copyOfRange(data, off, off + len),
          loop.random.nextInt()));
      default -> { } // pong, binary: nothing to do
    }
  }

  private void finish(String why) {
    if (state == State.CLOSED) {
      return;
    }
    state = State.CLOSED;
    out = null;
    pending = null;
    try {
      if (key != null) {
        key.cancel();
      }
      if (channel != null) {
        channel.close();
      }
    } catch (IOException e) {
      // already gone
    }
    ended(why);
  }
}
