package org.intrustd.hello;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * A minimal HTTP/1.1 client over a Unix domain socket, which the JDK's HttpClient cannot use.
 * It sends raw bytes, so tests control the exact framing, and parses one response.
 */
final class RawHttp implements AutoCloseable {
    private final SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocate(64 * 1024).flip();

    private RawHttp(SocketChannel channel) {
        this.channel = channel;
    }

    static RawHttp connect(Path socket) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        channel.connect(UnixDomainSocketAddress.of(socket));
        return new RawHttp(channel);
    }

    /** One request the way the daemon forwards it: {@code Connection: close}, then end of input. */
    static Response exchange(Path socket, String method, String target, String headers, byte[] body) throws IOException {
        try (RawHttp http = connect(socket)) {
            String head = method + " " + target + " HTTP/1.1\r\nHost: hello\r\nConnection: close\r\n" + headers
                    + (body.length > 0 ? "Content-Length: " + body.length + "\r\n" : "") + "\r\n";
            http.write(head.getBytes(StandardCharsets.ISO_8859_1));
            http.write(body);
            http.channel.shutdownOutput();
            Response response = http.readResponse();
            if (http.readByte() != -1) {
                throw new IOException("bytes after the response");
            }
            return response;
        }
    }

    static Response get(Path socket, String target) throws IOException {
        return exchange(socket, "GET", target, "", new byte[0]);
    }

    void write(byte[] bytes) throws IOException {
        ByteBuffer out = ByteBuffer.wrap(bytes);
        while (out.hasRemaining()) {
            channel.write(out);
        }
    }

    void write(String ascii) throws IOException {
        write(ascii.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Reads a status line and headers; the body, framed by them, follows. */
    Response readHead() throws IOException {
        String[] status = readLine().split(" ", 3);
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String line = readLine(); !line.isEmpty(); line = readLine()) {
            int colon = line.indexOf(':');
            headers.merge(line.substring(0, colon).trim(), line.substring(colon + 1).trim(), (a, b) -> a + ", " + b);
        }
        return new Response(Integer.parseInt(status[1]), headers, new byte[0]);
    }

    Response readResponse() throws IOException {
        Response head = readHead();
        byte[] body;
        if ("chunked".equalsIgnoreCase(head.header("Transfer-Encoding"))) {
            body = readChunked();
        } else if (head.header("Content-Length") != null) {
            body = readExactly(Integer.parseInt(head.header("Content-Length")));
        } else {
            body = readToEnd();
        }
        return new Response(head.status(), head.headers(), body);
    }

    private byte[] readChunked() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int size; (size = Integer.parseInt(readLine().split(";")[0].trim(), 16)) > 0; ) {
            body.writeBytes(readExactly(size));
            expectEmptyLine();
        }
        // Skip the trailers: the tests look at none.
        while (!readLine().isEmpty()) {
        }
        return body.toByteArray();
    }

    private void expectEmptyLine() throws IOException {
        if (!readLine().isEmpty()) {
            throw new IOException("chunk not followed by CRLF");
        }
    }

    private byte[] readToEnd() throws IOException {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        for (int b; (b = readByte()) != -1; ) {
            body.write(b);
        }
        return body.toByteArray();
    }

    byte[] readExactly(int n) throws IOException {
        byte[] bytes = new byte[n];
        for (int done = 0; done < n; ) {
            if (!in.hasRemaining() && !fill()) {
                throw new EOFException("stream ended after " + done + " of " + n + " bytes");
            }
            int take = Math.min(in.remaining(), n - done);
            in.get(bytes, done, take);
            done += take;
        }
        return bytes;
    }

    /** Returns the next byte, or -1 at the end of the stream. */
    int readByte() throws IOException {
        if (!in.hasRemaining() && !fill()) {
            return -1;
        }
        return in.get() & 0xff;
    }

    private String readLine() throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b; (b = readByte()) != '\n'; ) {
            if (b == -1) {
                throw new EOFException("stream ended inside a line: " + line);
            }
            line.append((char) b);
        }
        if (line.isEmpty() || line.charAt(line.length() - 1) != '\r') {
            throw new IOException("line not ended by CRLF: " + line);
        }
        return line.substring(0, line.length() - 1);
    }

    private boolean fill() throws IOException {
        in.clear();
        int n = channel.read(in);
        in.flip();
        return n > 0;
    }

    void shutdownOutput() throws IOException {
        channel.shutdownOutput();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    record Response(int status, Map<String, String> headers, byte[] body) {
        String header(String name) {
            return headers.get(name);
        }

        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }
}
