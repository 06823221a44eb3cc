package org.intrustd.appliance.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Calls the daemon's control API on its Unix socket (see {@link ControlServer}). */
public final class ControlClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_RESPONSE = 16 * 1024 * 1024;
  private final Path socket;

  public ControlClient(Path socket) {
    this.socket = socket;
  }

  /** An answer: the HTTP status and the JSON body (a problem document when the status is not 200). */
  public record Response(int status, JsonNode body) {
    public boolean ok() {
      return status == 200;
    }

    /** The problem's detail, for messages. */
    public String detail() {
      return body.path("detail").asText(body.toString());
    }
  }

  /** The daemon is not running (or not with this state directory). */
  public static final class NotRunning extends IOException {
    NotRunning(String message) {
      super(message);
    }
  }

  public Response call(String method, String target, JsonNode body) throws IOException {
    if (!Files.exists(socket)) {
      throw new NotRunning("no appliance daemon is running with this state directory (no " + socket + ")");
    }
    byte[] payload = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
    String head = method + " " + target + " HTTP/1.1\r\nHost: intrustd\r\nConnection: close\r\n"
        + (body == null ? "" : "Content-Type: application/json\r\nContent-Length: " + payload.length + "\r\n") + "\r\n";
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      try {
        ch.connect(UnixDomainSocketAddress.of(socket));
      } catch (IOException e) {
        throw new NotRunning("the appliance daemon does not answer on " + socket + " (" + e.getMessage() + ")");
      }
      ch.write(ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII)));
      ch.write(ByteBuffer.wrap(payload));
      InputStream in = Channels.newInputStream(ch);
      byte[] all = in.readNBytes(MAX_RESPONSE);
      String text = new String(all, StandardCharsets.UTF_8);
      int end = text.indexOf("\r\n\r\n");
      if (!text.startsWith("HTTP/1.1 ") || end < 0 || text.length() < 12) {
        throw new IOException("the daemon answered something that is not HTTP");
      }
      int status;
      try {
        status = Integer.parseInt(text.substring(9, 12));
      } catch (NumberFormatException e) {
        throw new IOException("the daemon answered a bad status line");
      }
      String json = text.substring(end + 4);
      return new Response(status, json.isEmpty() ? JSON.createObjectNode() : JSON.readTree(json));
    }
  }
}
