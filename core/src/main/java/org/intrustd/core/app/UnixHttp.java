package org.intrustd.core.app;

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
import java.util.Map;
import java.util.TreeMap;

/**
 * One HTTP/1.1 exchange over a Unix domain socket, which the JDK's HttpClient cannot use: how
 * an app asks its daemon for tokens or calls a peer, and how tests talk to an app. Whole
 * bodies both ways; the response is read to its end (at most {@value #MAX_RESPONSE} bytes).
 */
public final class UnixHttp {
    public static final int MAX_RESPONSE = 256 << 20;

    public record Response(int status, Map<String, String> headers, byte[] body) {
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }
    }

    private UnixHttp() {
    }

    public static Response exchange(Path socket, String method, String host, String target, Map<String, String> headers, byte[] body)
            throws IOException {
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\nHost: ")
                    .append(host).append("\r\nConnection: close\r\n");
            headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
            if (body.length > 0 || method.equals("POST") || method.equals("PUT") || method.equals("PATCH")) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            head.append("\r\n");
            OutputStream out = Channels.newOutputStream(ch);
            try {
                out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
                out.write(body);
                out.flush();
            } catch (IOException e) {
                // A server may refuse a request before reading its body (a 413 or 507) and close:
                // its answer is what the caller needs, not the broken pipe.
                try {
                    return read(Channels.newInputStream(ch), method.equals("HEAD"));
                } catch (IOException noAnswer) {
                    e.addSuppressed(noAnswer);
                    throw e;
                }
            }
            return read(Channels.newInputStream(ch), method.equals("HEAD"));
        }
    }

    /** A response from {@code in}; one to a HEAD has no body, whatever its Content-Length says. */
    public static Response read(InputStream in, boolean head) throws IOException {
        String status = line(in);
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP response: " + status);
        }
        int code = Integer.parseInt(parts[1]);
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (String l = line(in); !l.isEmpty(); l = line(in)) {
            int colon = l.indexOf(':');
            if (colon > 0) {
                headers.merge(l.substring(0, colon).trim(), l.substring(colon + 1).trim(), (a, b) -> a + ", " + b);
            }
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        if (head || code == 204 || code == 304) {
            return new Response(code, headers, new byte[0]);
        }
        if ("chunked".equalsIgnoreCase(headers.getOrDefault("Transfer-Encoding", ""))) {
            while (true) {
                String size = line(in);
                int semi = size.indexOf(';');
                int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).trim().toLowerCase(Locale.ROOT), 16);
                if (n == 0) {
                    break;
                }
                copy(in, body, n);
                line(in);
            }
        } else if (headers.containsKey("Content-Length")) {
            copy(in, body, Long.parseLong(headers.get("Content-Length")));
        } else {
            copy(in, body, MAX_RESPONSE);
        }
        return new Response(code, headers, body.toByteArray());
    }

    private static void copy(InputStream in, ByteArrayOutputStream out, long n) throws IOException {
        if (out.size() + n > MAX_RESPONSE && n != MAX_RESPONSE) {
            throw new IOException("response over " + MAX_RESPONSE + " bytes");
        }
        byte[] buf = new byte[8192];
        long left = n;
        int r;
        while (left > 0 && (r = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
            out.write(buf, 0, r);
            left -= r;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder s = new StringBuilder();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (s.length() > 16 * 1024) {
                throw new IOException("response line too long");
            }
            if (c != '\r') {
                s.append((char) c);
            }
        }
        return s.toString();
    }
}
