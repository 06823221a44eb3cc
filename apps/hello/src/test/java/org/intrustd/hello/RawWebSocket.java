package org.intrustd.hello;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;

/** A minimal RFC 6455 client over {@link RawHttp}: masked frames out, one frame at a time in. */
final class RawWebSocket implements AutoCloseable {
    static final int CONTINUATION = 0x0, TEXT = 0x1, BINARY = 0x2, CLOSE = 0x8, PING = 0x9, PONG = 0xA;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final RawHttp http;

    private RawWebSocket(RawHttp http) {
        this.http = http;
    }

    /** Performs the opening handshake and checks the server's {@code 101} and accept key. */
    static RawWebSocket open(Path socket, String path) throws IOException {
        byte[] nonce = new byte[16];
        RANDOM.nextBytes(nonce);
        String key = Base64.getEncoder().encodeToString(nonce);
        RawHttp http = RawHttp.connect(socket);
        http.write("GET " + path + " HTTP/1.1\r\nHost: hello\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n");
        RawHttp.Response head = http.readHead();
        assertThat(head.status()).isEqualTo(101);
        assertThat(head.header("Sec-WebSocket-Accept")).isEqualTo(accept(key));
        return new RawWebSocket(http);
    }

    private static String accept(String key) {
        try {
            byte[] sha1 = MessageDigest.getInstance("SHA-1")
                    .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII));
            return Base64.getEncoder().encodeToString(sha1);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    void send(int opcode, byte[] payload) throws IOException {
        ByteBuffer frame = ByteBuffer.allocate(14 + payload.length);
        frame.put((byte) (0x80 | opcode));
        if (payload.length < 126) {
            frame.put((byte) (0x80 | payload.length));
        } else if (payload.length < 65536) {
            frame.put((byte) (0x80 | 126)).putShort((short) payload.length);
        } else {
            frame.put((byte) (0x80 | 127)).putLong(payload.length);
        }
        byte[] mask = new byte[4];
        RANDOM.nextBytes(mask);
        frame.put(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.put((byte) (payload[i] ^ mask[i & 3]));
        }
        http.write(Arrays.copyOf(frame.array(), frame.position()));
    }

    void sendText(String text) throws IOException {
        send(TEXT, text.getBytes(StandardCharsets.UTF_8));
    }

    void sendClose(int code, String reason) throws IOException {
        byte[] utf8 = reason.getBytes(StandardCharsets.UTF_8);
        send(CLOSE, ByteBuffer.allocate(2 + utf8.length).putShort((short) code).put(utf8).array());
    }

    /** Reads one frame, which a server must not mask. */
    Frame read() throws IOException {
        int b0 = http.readByte();
        if (b0 == -1) {
            throw new EOFException("connection closed before a frame");
        }
        int b1 = http.readByte();
        assertThat(b1 & 0x80).as("server frames are unmasked").isZero();
        long length = b1 & 0x7f;
        if (length == 126) {
            length = ByteBuffer.wrap(http.readExactly(2)).getShort() & 0xffff;
        } else if (length == 127) {
            length = ByteBuffer.wrap(http.readExactly(8)).getLong();
        }
        return new Frame((b0 & 0x80) != 0, b0 & 0x0f, http.readExactly(Math.toIntExact(length)));
    }

    /** Reads a data message, joining continuation frames. */
    Frame readMessage() throws IOException {
        Frame frame = read();
        int opcode = frame.opcode();
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        payload.writeBytes(frame.payload());
        while (!frame.fin()) {
            frame = read();
            assertThat(frame.opcode()).isEqualTo(CONTINUATION);
            payload.writeBytes(frame.payload());
        }
        return new Frame(true, opcode, payload.toByteArray());
    }

    /** Returns the next byte, or -1 once the server has closed the connection. */
    int readByte() throws IOException {
        return http.readByte();
    }

    @Override
    public void close() throws IOException {
        http.close();
    }

    record Frame(boolean fin, int opcode, byte[] payload) {
        String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        int closeCode() {
            return ByteBuffer.wrap(payload).getShort() & 0xffff;
        }

        String closeReason() {
            return new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
        }
    }
}
