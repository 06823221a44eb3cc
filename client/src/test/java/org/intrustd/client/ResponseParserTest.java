package org.intrustd.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class ResponseParserTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void contentLengthChunkedAndToTheEnd() {
    HttpResult a = ResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"));
    assertThat(a.status()).isEqualTo(200);
    assertThat(a.header("content-type")).contains("application/json");
    assertThat(a.text()).isEqualTo("{}");
    HttpResult b = ResponseParser.parse(bytes("HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"));
    assertThat(b.status()).isEqualTo(404);
    assertThat(b.reason()).isEqualTo("Not Found");
    assertThat(b.text()).isEqualTo("abcde");
    assertThat(ResponseParser.parse(bytes("HTTP/1.1 204 \r\n\r\n")).body()).isEmpty();
    assertThat(ResponseParser.parse(bytes("HTTP/1.1 200 OK\r\n\r\nrest of stream")).text()).isEqualTo("rest of stream");
  }

  @Test
  void malformedResponsesSayWhat() {
    assertThatThrownBy(() -> ResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab")))
        .isInstanceOf(ClientException.class).hasMessageContaining("Content-Length said 5");
    assertThatThrownBy(() -> ResponseParser.parse(bytes("HTTP/1.0 200 OK\r\n\r\n"))).hasMessageContaining("status line");
    assertThatThrownBy(() -> ResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n"))).hasMessageContaining("header");
    assertThatThrownBy(() -> ResponseParser.parse(bytes("HTTP/1.1 200 OK\r\n"))).hasMessageContaining("before its head");
    assertThatThrownBy(() -> ResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\nab")))
        .hasMessageContaining("past the end");
    assertThatThrownBy(() -> ResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n")))
        .hasMessageContaining("Content-Length");
    assertThatThrownBy(() -> ResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx")))
        .hasMessageContaining("Content-Length");
    assertThatThrownBy(() -> ResponseParser.parse(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n")))
        .hasMessageContaining("transfer encoding");
  }

  @Test
  void anyBytesParseOrFailWithAClientException() {
    Gen<byte[]> prefixes = Gen.of(bytes("HTTP/1.1 200 OK\r\n"), bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        bytes("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"), new byte[0]);
    Property.forAll(3000, prefixes, Gen.bytes(0, 300), (prefix, tail) -> {
      byte[] all = new byte[prefix.length + tail.length];
      System.arraycopy(prefix, 0, all, 0, prefix.length);
      System.arraycopy(tail, 0, all, prefix.length, tail.length);
      try {
        ResponseParser.parse(all);
      } catch (ClientException expected) {
        assertThat(expected.getMessage()).isNotBlank();
      }
    });
  }

  @Test
  void aChunkedBodyInAnySplitReadsBack() {
    Property.forAll(500, Gen.bytes(0, 5000), Gen.ints(1, 700), (body, piece) -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      out.writeBytes(bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
      for (int off = 0; off < body.length; off += piece) {
        int n = Math.min(piece, body.length - off);
        out.writeBytes(bytes(Integer.toHexString(n) + "\r\n"));
        out.write(body, off, n);
        out.writeBytes(bytes("\r\n"));
      }
      out.writeBytes(bytes("0\r\n\r\n"));
      assertThat(ResponseParser.parse(out.toByteArray()).body()).isEqualTo(body);
    });
  }
}
