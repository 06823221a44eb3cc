package org.intrustd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class HttpStreamTest {
  private static ByteArrayInputStream in(String s) {
    return new ByteArrayInputStream(s.getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void aHeadIsReadToItsBlankLineAndNoFurther() throws IOException {
    var stream = in("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nConnection: keep-alive, Upgrade\r\n\r\nabcNEXT");
    HttpStream.Head head = HttpStream.readHead(stream).orElseThrow();
    assertThat(head.startLine()).isEqualTo("POST /x HTTP/1.1");
    assertThat(head.values("content-length")).containsExactly("3");
    assertThat(head.bodyLength(0)).isEqualTo(3);
    assertThat(head.lists("Connection", "upgrade")).isTrue();
    assertThat(new String(stream.readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo("abcNEXT");
    assertThat(new String(head.bytes("connection"), StandardCharsets.ISO_8859_1))
        .isEqualTo("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n");
    assertThat(HttpStream.readHead(in(""))).as("a client that closed between requests").isEmpty();
  }

  @Test
  void framingIsStrict() throws IOException {
    assertThat(HttpStream.readHead(in("GET / HTTP/1.1\r\n\r\n")).orElseThrow().bodyLength(0)).isZero();
    assertThat(HttpStream.readHead(in("HTTP/1.1 200 OK\r\n\r\n")).orElseThrow().bodyLength(-2)).isEqualTo(-2);
    assertThat(HttpStream.readHead(in("X / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")).orElseThrow().bodyLength(0))
        .isEqualTo(-1);
    for (String bad : List.of("Content-Length: -1", "Content-Length: 1x", "Content-Length: 1\r\nContent-Length: 2",
        "Transfer-Encoding: gzip", "Content-Length: 99999999999999999999")) {
      HttpStream.Head head = HttpStream.readHead(in("GET / HTTP/1.1\r\n" + bad + "\r\n\r\n")).orElseThrow();
      assertThatThrownBy(() -> head.bodyLength(0)).as(bad).isInstanceOf(ClientException.class);
    }
    for (String bad : List.of("GET / HTTP/1.1\r\nNo colon\r\n\r\n", "GET / HTTP/1.1\r\nA b: c\r\n\r\n",
        " GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n", "GET / HTTP/1.1\r\nHost: a\r\n")) {
      assertThatThrownBy(() -> HttpStream.readHead(in(bad))).as(bad).isInstanceOf(ClientException.class);
    }
    assertThatThrownBy(() -> HttpStream.readHead(in("GET / HTTP/1.1\r\nX: " + "a".repeat(HttpStream.MAX_HEAD) + "\r\n\r\n")))
        .hasMessageContaining("over");
    assertThatThrownBy(() -> HttpStream.status(HttpStream.readHead(in("HTTP/2 200\r\n\r\n")).orElseThrow()))
        .isInstanceOf(ClientException.class);
  }

  @Test
  void chunkedBodiesAreRelayedAsTheyAreOrDecoded() throws IOException {
    String body = "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n";
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    var stream = in(body + "AFTER");
    HttpStream.copyChunked(stream, raw, true, new byte[4]);
    assertThat(raw.toString(StandardCharsets.ISO_8859_1)).isEqualTo(body);
    assertThat(new String(stream.readAllBytes(), StandardCharsets.ISO_8859_1)).isEqualTo("AFTER");
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    HttpStream.copyChunked(in(body), data, false, new byte[4]);
    assertThat(data.toString(StandardCharsets.ISO_8859_1)).isEqualTo("abcde");
    assertThatThrownBy(() -> HttpStream.copyChunked(in("3\r\nab"), new ByteArrayOutputStream(), false, new byte[4]))
        .isInstanceOf(EOFException.class);
    assertThatThrownBy(() -> HttpStream.copyChunked(in("3\r\nabcX\r\n"), new ByteArrayOutputStream(), false, new byte[4]))
        .isInstanceOf(ClientException.class);
  }

  /** Any bytes at all: a head, or a ClientException or EOF; never another exception, never a hang. */
  @Test
  void randomBytesNeverBreakTheReaders() {
    Gen<byte[]> noise = Gen.oneOf(Gen.bytes(0, 300),
        Gen.stringsOf("GET /HTP1.\r\n:ab-Content-Length0123456789chunked;Transfer-Encoding ", 0, 300)
            .map(s -> s.getBytes(StandardCharsets.ISO_8859_1)));
    Property.forAll(3000, noise, bytes -> {
      try {
        HttpStream.readHead(new ByteArrayInputStream(bytes)).ifPresent(h -> {
          try {
            h.bodyLength(-2);
          } catch (ClientException e) {
            // refused, with a reason
          }
        });
      } catch (ClientException | IOException e) {
        // refused, with a reason
      }
      try {
        HttpStream.copyChunked(new ByteArrayInputStream(bytes), new ByteArrayOutputStream(), true, new byte[16]);
      } catch (ClientException | IOException e) {
        // refused, with a reason
      }
    });
  }

  /** Whatever a chunked body holds, relaying it decoded gives back the data. */
  @Test
  void chunkedRoundTrips() {
    Property.forAll(500, Gen.bytes(0, 5000), Gen.ints(1, 700), (data, chunk) -> {
      ByteArrayOutputStream framed = new ByteArrayOutputStream();
      for (int at = 0; at < data.length; at += chunk) {
        int n = Math.min(chunk, data.length - at);
        framed.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        framed.write(data, at, n);
        framed.writeBytes(new byte[] {'\r', '\n'});
      }
      framed.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        HttpStream.copyChunked(new ByteArrayInputStream(framed.toByteArray()), out, false, new byte[64]);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
      assertThat(out.toByteArray()).isEqualTo(data);
    });
  }
}
