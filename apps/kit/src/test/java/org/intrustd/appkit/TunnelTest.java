package org.intrustd.appkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A protocol that is not HTTP over an upgraded connection: the bytes sent early, then a conversation, then the end. */
class TunnelTest {
    @TempDir
    Path tmp;
    private Server server;
    private Path socket;

    @BeforeEach
    void start() throws Exception {
        socket = tmp.resolve("app.sock");
        // A line protocol: each line comes back in capitals; "bye" ends the session.
        server = AppServer.start("tunnel-test", socket, new Handler.Abstract() {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request rq, org.eclipse.jetty.server.Response rs,
                    org.eclipse.jetty.util.Callback cb) {
                if (Tunnel.asked(rq, "greet")) {
                    // Like a server process: it greets at once, and reads on another thread while it writes.
                    Tunnel.accept(rq, rs, cb, "greet", (in, out) -> {
                        out.write("HELLO\n".getBytes(StandardCharsets.US_ASCII));
                        java.util.concurrent.SynchronousQueue<String> lines = new java.util.concurrent.SynchronousQueue<>();
                        Thread reader = Thread.ofVirtual().start(() -> {
                            try {
                                for (String l; !(l = readLine(in)).isEmpty();) {
                                    lines.put(l);
                                }
                                lines.put("");
                            } catch (IOException | InterruptedException e) {
                                // ends the session
                            }
                        });
                        try {
                            for (String l; !(l = lines.take()).isEmpty();) {
                                out.write((l + "!\n").getBytes(StandardCharsets.US_ASCII));
                            }
                        } catch (InterruptedException e) {
                            throw new java.io.InterruptedIOException();
                        }
                        reader.interrupt();
                    });
                    return true;
                }
                if (!Tunnel.asked(rq, "shout")) {
                    Replies.problem(rs, cb, 426, "upgrade to shout");
                    return true;
                }
                Tunnel.accept(rq, rs, cb, "shout", (in, out) -> {
                    StringBuilder line = new StringBuilder();
                    for (int c; (c = in.read()) >= 0;) {
                        if (c != '\n') {
                            line.append((char) c);
                            continue;
                        }
                        if (line.toString().equals("bye")) {
                            out.write("BYE\n".getBytes(StandardCharsets.US_ASCII));
                            return;
                        }
                        out.write((line.toString().toUpperCase(Locale.ROOT) + "\n").getBytes(StandardCharsets.US_ASCII));
                        line.setLength(0);
                    }
                });
                return true;
            }
        });
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (int c; (c = in.read()) >= 0 && c != '\n';) {
            b.write(c);
        }
        return b.toString(StandardCharsets.US_ASCII);
    }

    @Test
    void bytesSentWithTheRequestAndAfterTheSwitchGoBothWaysUntilTheSessionEnds() throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            OutputStream out = Channels.newOutputStream(ch);
            InputStream in = Channels.newInputStream(ch);
            // The first line rides in the same write as the request head, before the 101.
            out.write(("GET /shout HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: shout\r\n\r\nearly\n")
                    .getBytes(StandardCharsets.US_ASCII));
            StringBuilder head = new StringBuilder();
            for (String l; !(l = readLine(in)).equals("\r");) {
                head.append(l).append('\n');
            }
            assertThat(head.toString()).startsWith("HTTP/1.1 101").containsIgnoringCase("Upgrade: shout");
            assertThat(readLine(in)).isEqualTo("EARLY");
            byte[] big = ("x".repeat(200_000) + "\n").getBytes(StandardCharsets.US_ASCII);
            out.write(big);
            assertThat(readLine(in)).hasSize(200_000).startsWith("XXX");
            out.write("bye\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).isEqualTo("BYE");
            assertThat(in.read()).as("the session ended: the connection closes").isEqualTo(-1);
        }
    }

    @Test
    void aServerThatGreetsFirstAndReadsOnAnotherThreadIsHeard() throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            OutputStream out = Channels.newOutputStream(ch);
            InputStream in = Channels.newInputStream(ch);
            out.write("GET /greet HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: greet\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            for (String l; !(l = readLine(in)).equals("\r");) {
                assertThat(l).isNotNull();
            }
            assertThat(readLine(in)).isEqualTo("HELLO");
            out.write("one\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).isEqualTo("one!");
            out.write("two\n\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(readLine(in)).isEqualTo("two!");
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void aRequestThatAsksForNoUpgradeIsAnsweredAsHttp() throws Exception {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            Channels.newOutputStream(ch).write("GET /shout HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8))
                    .startsWith("HTTP/1.1 426").contains("upgrade to shout");
        }
    }
}
