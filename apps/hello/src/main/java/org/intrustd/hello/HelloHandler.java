package org.intrustd.hello;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import org.eclipse.jetty.http.HttpFields;
import org.intrustd.core.access.TrustedHeaders;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * The app's plain HTTP endpoints. Handlers block: Jetty runs them on virtual threads, which
 * keeps the streaming code straight-line while memory stays bounded by one chunk per request.
 */
final class HelloHandler extends Handler.Abstract {
    private static final long MAX_STREAM_BYTES = 1L << 40;
    private static final int CHUNK = 64 * 1024;
    /** {@code /stream} byte i is i mod 251; a prime period never lines up with buffer sizes, so a lost or repeated chunk shows. */
    private static final int PERIOD = 251;
    /** One chunk of the pattern from any phase: the chunk starting at offset o is PATTERN[o % PERIOD ...]. */
    private static final byte[] PATTERN = new byte[CHUNK + PERIOD];

    static {
        for (int i = 0; i < PATTERN.length; i++) {
            PATTERN[i] = (byte) (i % PERIOD);
        }
    }

    private static final String TEXT = "text/plain;charset=utf-8";

    @FunctionalInterface
    private interface Endpoint {
        void handle(Request request, Response response, Callback callback) throws Exception;
    }

    private record Route(List<String> methods, Endpoint endpoint) {
    }

    private static final Map<String, Route> ROUTES = Map.of(
            "/health", new Route(List.of("GET"), HelloHandler::health),
            "/echo", new Route(List.of("GET", "POST"), HelloHandler::echo),
            "/stream", new Route(List.of("GET"), HelloHandler::stream),
            "/upload", new Route(List.of("POST"), HelloHandler::upload),
            "/whoami", new Route(List.of("GET"), HelloHandler::whoami));

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        Route route = ROUTES.get(Request.getPathInContext(request));
        if (route == null) {
            problem(response, callback, HttpStatus.NOT_FOUND_404, "There is no resource at this path.");
        } else if (!route.methods().contains(request.getMethod())) {
            response.getHeaders().put(HttpHeader.ALLOW, String.join(", ", route.methods()));
            problem(response, callback, HttpStatus.METHOD_NOT_ALLOWED_405, "This resource does not support the method.");
        } else {
            route.endpoint().handle(request, response, callback);
        }
        return true;
    }

    private static void health(Request request, Response response, Callback callback) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, TEXT);
        Content.Sink.write(response, true, "ok", callback);
    }

    /**
     * Who is calling, as the daemon's trusted headers say, read with core's helper: the way an
     * app checks fine-grained permissions. {@code ?check=<permission>} adds whether it is held.
     */
    private static void whoami(Request request, Response response, Callback callback) {
        TrustedHeaders.Caller caller;
        try {
            caller = TrustedHeaders.parse(name -> request.getHeaders().get(name));
        } catch (IllegalArgumentException e) {
            problem(response, callback, HttpStatus.BAD_REQUEST_400, e.getMessage());
            return;
        }
        String check = Request.extractQueryParameters(request).getValue("check");
        StringBuilder json = new StringBuilder("{\"persona\":").append(quote(caller.persona().orElse(null)))
                .append(",\"role\":").append(quote(caller.role().orElse(null)))
                .append(",\"tokens\":[").append(String.join(",", caller.tokens().stream().map(HelloHandler::quote).toList()))
                .append("],\"permissions\":[").append(String.join(",",
                        caller.permissions().stream().map(p -> quote(p.toString())).sorted().toList())).append(']')
                .append(",\"peer\":").append(quote(request.getHeaders().get(TrustedHeaders.PEER)));
        if (check != null) {
            json.append(",\"holds\":").append(caller.has(check));
        }
        json.append('}');
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, json.toString(), callback);
    }

    /** A JSON string (or null); trusted header values are printable ASCII, so escaping quotes and backslashes is enough. */
    private static String quote(String s) {
        return s == null ? "null" : '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    /** Echoes the body (POST) or {@code msg} (GET), and reports the trusted headers the daemon injected. */
    private static void echo(Request request, Response response, Callback callback) {
        HttpFields.Mutable headers = response.getHeaders();
        headers.put(HttpHeader.CONTENT_TYPE, TEXT);
        headers.put("X-Echo-Method", request.getMethod());
        copyHeader(request, "X-Intrustd-Appliance", headers, "X-Seen-Appliance");
        copyHeader(request, "X-Intrustd-Link", headers, "X-Seen-Link");
        copyHeader(request, "X-Intrustd-Caller-App", headers, "X-Seen-Caller-App");
        if (request.getMethod().equals("POST")) {
            // Passes the request's chunks straight to the response, one at a time.
            Content.copy(request, response, callback);
        } else {
            String msg = Request.extractQueryParameters(request).getValue("msg");
            Content.Sink.write(response, true, msg == null ? "" : msg, callback);
        }
    }

    private static void copyHeader(Request request, String from, HttpFields.Mutable to, String as) {
        String value = request.getHeaders().get(from);
        if (value != null) {
            to.put(as, value);
        }
    }

    private static void stream(Request request, Response response, Callback callback) throws IOException {
        OptionalLong length = streamLength(Request.extractQueryParameters(request).getValue("bytes"));
        if (length.isEmpty()) {
            problem(response, callback, HttpStatus.BAD_REQUEST_400,
                    "Query parameter bytes must be a decimal integer from 0 to " + MAX_STREAM_BYTES + ".");
            return;
        }
        long total = length.getAsLong();
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, total);
        try (OutputStream out = Content.Sink.asOutputStream(response)) {
            for (long sent = 0; sent < total; ) {
                int n = (int) Math.min(CHUNK, total - sent);
                // Each write blocks until the chunk is sent, so a slow reader holds back the loop.
                out.write(PATTERN, (int) (sent % PERIOD), n);
                sent += n;
            }
        }
        callback.succeeded();
    }

    private static OptionalLong streamLength(String bytes) {
        // ASCII digits only: Long.parseLong would also accept a sign and non-ASCII digits.
        if (bytes == null || !bytes.matches("[0-9]+")) {
            return OptionalLong.empty();
        }
        try {
            long n = Long.parseLong(bytes);
            return n <= MAX_STREAM_BYTES ? OptionalLong.of(n) : OptionalLong.empty();
        } catch (NumberFormatException overflow) {
            return OptionalLong.empty();
        }
    }

    private static void upload(Request request, Response response, Callback callback) throws Exception {
        MessageDigest sha256 = MessageDigest.getInstance("SHA-256");
        long size = 0;
        try (InputStream body = Content.Source.asInputStream(request)) {
            byte[] buffer = new byte[CHUNK];
            for (int n; (n = body.read(buffer)) != -1; size += n) {
                sha256.update(buffer, 0, n);
            }
        }
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        String json = "{\"size\":" + size + ",\"sha256\":\"" + HexFormat.of().formatHex(sha256.digest()) + "\"}";
        Content.Sink.write(response, true, json, callback);
    }

    /** Writes an RFC 9457 problem body; {@code detail} goes in unescaped, so it must be a constant without quotes. */
    static void problem(Response response, Callback callback, int status, String detail) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/problem+json");
        String json = "{\"type\":\"about:blank\",\"title\":\"" + HttpStatus.getMessage(status)
                + "\",\"status\":" + status + ",\"detail\":\"" + detail + "\"}";
        Content.Sink.write(response, true, json, callback);
    }
}
