package org.intrustd.appliance.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Sends raw request bytes to one of the daemon's Unix sockets and reads the whole answer. */
public final class UnixHttp {
  private UnixHttp() {}

  public static String exchange(Path socket, byte[] request) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.write(ByteBuffer.wrap(request));
      ch.shutdownOutput();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteBuffer buf = ByteBuffer.allocate(8192);
      while (ch.read(buf) > 0) {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
      }
      return out.toString(StandardCharsets.UTF_8);
    }
  }
}
