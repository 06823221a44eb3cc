package org.intrustd.appliance.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What the app receives instead of the client's head (channels.md "Appliance rules"). */
class RequestRewriterTest {
  private static final Map<String, String> TRUSTED = Map.of("X-Intrustd-Appliance", "APPLIANCE-ID",
      "X-Intrustd-Link", "link-1");

  private static RequestHead rewritten(String clientHead) {
    byte[] out = RequestRewriter.rewrite(RequestHeadParserTest.parse(clientHead), "hello", TRUSTED);
    return RequestHeadParserTest.parse(new String(out, StandardCharsets.ISO_8859_1));
  }

  private static List<String> values(RequestHead head, String name) {
    return head.fields().stream().filter(f -> f.name().equalsIgnoreCase(name)).map(RequestHead.Field::value).toList();
  }

  @Test
  void clientTrustedHeadersInAnyCaseAreDroppedAndTheAppliancesOwnAdded() {
    RequestHead head = rewritten("GET /echo HTTP/1.1\r\nHost: hello\r\nX-Intrustd-Appliance: forged\r\n"
        + "x-intrustd-link: forged\r\nX-INTRUSTD-PERSONA: admin\r\nx-InTrUsTd-Permission: all\r\n"
        + "X-Intrustd-: empty-suffix\r\nX-Intrustd-Appliance: forged-again\r\n\r\n");
    assertThat(values(head, "X-Intrustd-Appliance")).containsExactly("APPLIANCE-ID");
    assertThat(values(head, "X-Intrustd-Link")).containsExactly("link-1");
    assertThat(head.fields()).filteredOn(f -> f.name().toLowerCase(Locale.ROOT).startsWith("x-intrustd-"))
        .hasSize(2);
  }

  @Test
  void headersThatOnlyLookSimilarAreKept() {
    RequestHead head = rewritten("GET / HTTP/1.1\r\nX-Intrustd: a\r\nX-Intrustdx-Foo: b\r\nX-Not-Intrustd-Link: c\r\n\r\n");
    assertThat(values(head, "X-Intrustd")).containsExactly("a");
    assertThat(values(head, "X-Intrustdx-Foo")).containsExactly("b");
    assertThat(values(head, "X-Not-Intrustd-Link")).containsExactly("c");
  }

  @Test
  void hopByHopFieldsAreDroppedAndTheConnectionIsOneExchangeLong() {
    RequestHead head = rewritten("GET /p?q=1 HTTP/1.1\r\nHost: hello\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
        + "Proxy-Connection: keep-alive\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Authorization: Basic eDp5\r\n"
        + "Accept: text/plain\r\n\r\n");
    assertThat(head.method()).isEqualTo("GET");
    assertThat(head.target()).isEqualTo("/p?q=1");
    assertThat(values(head, "Connection")).containsExactly("close");
    for (String hop : List.of("Keep-Alive", "Proxy-Connection", "TE", "Upgrade", "Proxy-Authorization")) {
      assertThat(values(head, hop)).as(hop).isEmpty();
    }
    assertThat(values(head, "Accept")).containsExactly("text/plain");
    assertThat(head.framing()).isEqualTo(new RequestHead.BodyFraming.None());
  }

  @Test
  void anUpgradeKeepsConnectionUpgradeAndItsHandshakeFields() {
    RequestHead head = rewritten("GET /ws HTTP/1.1\r\nHost: hello\r\nConnection: keep-alive, Upgrade\r\n"
        + "Upgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        + "Sec-WebSocket-Protocol: chat\r\n\r\n");
    assertThat(values(head, "Connection")).containsExactly("Upgrade");
    assertThat(values(head, "Upgrade")).containsExactly("websocket");
    assertThat(values(head, "Sec-WebSocket-Key")).containsExactly("dGhlIHNhbXBsZSBub25jZQ==");
    assertThat(values(head, "Sec-WebSocket-Version")).containsExactly("13");
    assertThat(values(head, "Sec-WebSocket-Protocol")).containsExactly("chat");
    assertThat(head.framing()).isEqualTo(new RequestHead.BodyFraming.Upgrade("websocket"));
  }

  @Test
  void fieldsNamedInConnectionAreDroppedButNeverTheBodyFraming() {
    RequestHead head = rewritten("POST /upload HTTP/1.1\r\nHost: hello\r\nConnection: X-Hop, close , x-other\r\n"
        + "Connection: Content-Length\r\nX-Hop: secret\r\nX-Other: 1\r\nX-Kept: 2\r\nContent-Length: 5\r\n\r\n");
    assertThat(values(head, "X-Hop")).isEmpty();
    assertThat(values(head, "X-Other")).isEmpty();
    assertThat(values(head, "X-Kept")).containsExactly("2");
    assertThat(values(head, "Content-Length")).containsExactly("5");
    assertThat(head.framing()).isEqualTo(new RequestHead.BodyFraming.Length(5));
  }

  @Test
  void hostIsForcedToTheAppIdWhateverTheClientSent() {
    assertThat(values(rewritten("GET / HTTP/1.1\r\nHost: evil.example\r\nhost: other\r\n\r\n"), "Host"))
        .containsExactly("hello");
    assertThat(values(rewritten("GET / HTTP/1.1\r\n\r\n"), "Host")).containsExactly("hello");
  }

  @Test
  void bodyFramingFieldsPassUnchangedSoTheAppSeesTheSameBody() {
    RequestHead chunked = rewritten("POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n");
    assertThat(values(chunked, "Transfer-Encoding")).containsExactly("chunked");
    assertThat(chunked.framing()).isEqualTo(new RequestHead.BodyFraming.Chunked());
    RequestHead length = rewritten("POST /echo HTTP/1.1\r\nContent-Length: 12\r\n\r\n");
    assertThat(values(length, "Content-Length")).containsExactly("12");
    assertThat(length.framing()).isEqualTo(new RequestHead.BodyFraming.Length(12));
  }

  @Test
  void otherFieldsKeepTheirOrderSpellingAndDuplicates() {
    RequestHead head = rewritten("GET / HTTP/1.1\r\nx-b: 1\r\nX-A: 2\r\nHost: hello\r\nx-b: 3\r\nCookie: a=b\r\n\r\n");
    assertThat(head.fields().subList(1, 5)).containsExactly(new RequestHead.Field("x-b", "1"),
        new RequestHead.Field("X-A", "2"), new RequestHead.Field("x-b", "3"), new RequestHead.Field("Cookie", "a=b"));
    assertThat(head.fields().get(0)).isEqualTo(new RequestHead.Field("Host", "hello"));
  }

  /** The spec's requests whose head leaves room for the trusted fields under the parser's limit. */
  static Stream<HttpVectors.Valid> valid() {
    return HttpVectors.VALID.stream().filter(v -> v.headBytes() < 60_000);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("valid")
  void everySpecRequestRewritesToAValidHeadWithTheSameFramingAndOnlyTrustedHeaders(HttpVectors.Valid v) {
    byte[] head = java.util.Arrays.copyOf(v.request(), v.headBytes());
    RequestHead client = RequestHeadParserTest.parse(new String(head, StandardCharsets.ISO_8859_1));
    RequestHead app = rewritten(new String(head, StandardCharsets.ISO_8859_1));
    assertThat(app.method()).isEqualTo(client.method());
    assertThat(app.target()).isEqualTo(client.target());
    assertThat(app.framing()).isEqualTo(client.framing());
    assertThat(values(app, "Host")).containsExactly("hello");
    assertThat(values(app, "Connection")).hasSize(1);
    assertThat(app.fields()).filteredOn(f -> f.name().toLowerCase(Locale.ROOT).startsWith("x-intrustd-"))
        .extracting(RequestHead.Field::value).containsExactlyInAnyOrder("APPLIANCE-ID", "link-1");
  }
}
