package org.intrustd.hello;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Talks raw HTTP/1.1 and WebSocket to one in-process app, as the daemon would over the socket. */
class HelloAppTest {
    private static final String PROBLEM = "\\{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,\"detail\":\"[^\"]+\"}";

    @TempDir
    static Path dir;
    static Path socket;
    static HelloApp.Running app;

    @BeforeAll
    static void start() throws Exception {
        socket = dir.resolve("hello.sock");
        app = HelloApp.start(socket);
    }

    @AfterAll
    static void stop() throws Exception {
        app.close();
    }

    @Test
    void health() throws IOException {
        RawHttp.Response response = RawHttp.get(socket, "/health");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.text()).isEqualTo("ok");
    }

    @Test
    void echoGetReturnsMsgAndTheTrustedHeaders() throws IOException {
        RawHttp.Response response = RawHttp.exchange(socket, "GET", "/echo?msg=h%C3%A9llo%20world",
                "X-Intrustd-Appliance: appliance-1\r\nX-Intrustd-Link: link-7\r\n", new byte[0]);

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Type")).startsWith("text/plain");
        assertThat(response.text()).isEqualTo("héllo world");
        assertThat(response.header("X-Echo-Method")).isEqualTo("GET");
        assertThat(response.header("X-Seen-Appliance")).isEqualTo("appliance-1");
        assertThat(response.header("X-Seen-Link")).isEqualTo("link-7");
    }

    @Test
    void echoGetWithoutMsgOrTrustedHeaders() throws IOException {
        RawHttp.Response response = RawHttp.get(socket, "/echo");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.body()).isEmpty();
        assertThat(response.headers()).doesNotContainKeys("X-Seen-Appliance", "X-Seen-Link");
    }

    @Test
    void echoPostReturnsTheBody() throws IOException {
        byte[] body = "any bytes \u0000\u00ff".getBytes(StandardCharsets.UTF_8);

        RawHttp.Response response = RawHttp.exchange(socket, "POST", "/echo", "", body);

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("X-Echo-Method")).isEqualTo("POST");
        assertThat(response.body()).isEqualTo(body);
    }

    @Test
    void echoPostReturnsAChunkedBody() throws IOException {
        try (RawHttp http = RawHttp.connect(socket)) {
            http.write("POST /echo HTTP/1.1\r\nHost: hello\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
                    + "5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n");
            http.shutdownOutput();

            RawHttp.Response response = http.readResponse();

            assertThat(response.status()).isEqualTo(200);
            assertThat(response.text()).isEqualTo("hello, world");
        }
    }

    /** Echoes while the body is still arriving, as a proxy that streams both ways sees it. */
    @Test
    void echoPostStreamsALargeBodyBack() throws Exception {
        byte[] body = randomBytes(8 * 1024 * 1024);
        try (RawHttp http = RawHttp.connect(socket)) {
            http.write("POST /echo HTTP/1.1\r\nHost: hello\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n");
            CompletableFuture<Void> upload = CompletableFuture.runAsync(() -> {
                try {
                    http.write(body);
                    http.shutdownOutput();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });

            RawHttp.Response response = http.readResponse();

            upload.join();
            assertThat(response.status()).isEqualTo(200);
            assertThat(response.body()).isEqualTo(body);
        }
    }

    @Test
    void streamSendsContentLengthAndThePattern() throws IOException {
        int length = 3 * 1024 * 1024 + 12_345;

        RawHttp.Response response = RawHttp.get(socket, "/stream?bytes=" + length);

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Type")).isEqualTo("application/octet-stream");
        assertThat(response.header("Content-Length")).isEqualTo(Integer.toString(length));
        byte[] body = response.body();
        for (int i = 0; i < length; i++) {
            if (body[i] != (byte) (i % 251)) {
                throw new AssertionError("byte " + i + " is " + body[i]);
            }
        }
    }

    @Test
    void streamOfZeroBytes() throws IOException {
        RawHttp.Response response = RawHttp.get(socket, "/stream?bytes=0");

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Length")).isEqualTo("0");
        assertThat(response.body()).isEmpty();
    }

    @Test
    void streamAcceptsTheLargestLength() throws IOException {
        try (RawHttp http = RawHttp.connect(socket)) {
            http.write("GET /stream?bytes=1099511627776 HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n\r\n");

            RawHttp.Response head = http.readHead();

            assertThat(head.status()).isEqualTo(200);
            assertThat(head.header("Content-Length")).isEqualTo("1099511627776");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "?bytes=", "?bytes=-1", "?bytes=abc", "?bytes=%2B5", "?bytes=1e3", "?bytes=1099511627777",
            "?bytes=99999999999999999999"})
    void streamRejectsABadLength(String query) throws IOException {
        RawHttp.Response response = RawHttp.get(socket, "/stream" + query);

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(response.text()).matches(PROBLEM.formatted("Bad Request", 400));
    }

    @Test
    void uploadReportsSizeAndSha256() throws Exception {
        byte[] body = randomBytes(5 * 1024 * 1024);
        String sha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));

        RawHttp.Response response = RawHttp.exchange(socket, "POST", "/upload", "", body);

        assertThat(response.status()).isEqualTo(200);
        assertThat(response.header("Content-Type")).isEqualTo("application/json");
        assertThat(response.text()).isEqualTo("{\"size\":" + body.length + ",\"sha256\":\"" + sha256 + "\"}");
    }

    @Test
    void unknownPathIsANotFoundProblem() throws IOException {
        RawHttp.Response response = RawHttp.get(socket, "/nope");

        assertThat(response.status()).isEqualTo(404);
        assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(response.text()).matches(PROBLEM.formatted("Not Found", 404));
    }

    @Test
    void wrongMethodIsAMethodNotAllowedProblem() throws IOException {
        RawHttp.Response response = RawHttp.exchange(socket, "DELETE", "/echo", "", new byte[0]);

        assertThat(response.status()).isEqualTo(405);
        assertThat(response.header("Allow")).isEqualTo("GET, POST");
        assertThat(response.text()).matches(PROBLEM.formatted("Method Not Allowed", 405));
    }

    @Test
    void errorsJettyRaisesAreProblemsToo() throws IOException {
        RawHttp.Response response = RawHttp.get(socket, "/echo?msg=%ZZ");

        assertThat(response.status()).isEqualTo(400);
        assertThat(response.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(response.text()).matches(PROBLEM.formatted("Bad Request", 400));
    }

    @Test
    void webSocketEchoesAndClosesWithTheRequestedCode() throws IOException {
        try (RawWebSocket ws = RawWebSocket.open(socket, "/ws")) {
            ws.sendText("héllo");
            RawWebSocket.Frame text = ws.readMessage();
            assertThat(text.opcode()).isEqualTo(RawWebSocket.TEXT);
            assertThat(text.text()).isEqualTo("héllo");

            byte[] binary = randomBytes(200_000);
            ws.send(RawWebSocket.BINARY, binary);
            RawWebSocket.Frame echoed = ws.readMessage();
            assertThat(echoed.opcode()).isEqualTo(RawWebSocket.BINARY);
            assertThat(echoed.payload()).isEqualTo(binary);

            ws.send(RawWebSocket.PING, new byte[] {1, 2, 3});
            RawWebSocket.Frame pong = ws.read();
            assertThat(pong.opcode()).isEqualTo(RawWebSocket.PONG);
            assertThat(pong.payload()).containsExactly(1, 2, 3);

            ws.sendText("close:4001:bye: for now");
            RawWebSocket.Frame close = ws.read();
            assertThat(close.opcode()).isEqualTo(RawWebSocket.CLOSE);
            assertThat(close.closeCode()).isEqualTo(4001);
            assertThat(close.closeReason()).isEqualTo("bye: for now");

            ws.sendClose(4001, "");
            assertThat(ws.readByte()).as("server closes the connection after the handshake").isEqualTo(-1);
        }
    }

    @Test
    void webSocketEchoesAnUntransmittableCloseCommandAsText() throws IOException {
        try (RawWebSocket ws = RawWebSocket.open(socket, "/ws")) {
            ws.sendText("close:1005:no");

            assertThat(ws.readMessage().text()).isEqualTo("close:1005:no");
        }
    }

    @Test
    void webSocketCarriesAMaximumSizeMessage() throws IOException {
        byte[] message = randomBytes(HelloApp.MAX_WEBSOCKET_MESSAGE);
        try (RawWebSocket ws = RawWebSocket.open(socket, "/ws")) {
            ws.send(RawWebSocket.BINARY, message);

            assertThat(ws.readMessage().payload()).isEqualTo(message);
        }
    }

    @Test
    void webSocketClosesWith1009OnALargerMessage() throws IOException {
        try (RawWebSocket ws = RawWebSocket.open(socket, "/ws")) {
            // The server may give up and close before it has read all of it, failing the write.
            CompletableFuture.runAsync(() -> {
                try {
                    ws.send(RawWebSocket.BINARY, new byte[HelloApp.MAX_WEBSOCKET_MESSAGE + 1]);
                } catch (IOException expected) {
                    // The close frame is what the test checks.
                }
            });

            RawWebSocket.Frame close = ws.read();

            assertThat(close.opcode()).isEqualTo(RawWebSocket.CLOSE);
            assertThat(close.closeCode()).isEqualTo(1009);
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new Random(n).nextBytes(bytes);
        return bytes;
    }
}
