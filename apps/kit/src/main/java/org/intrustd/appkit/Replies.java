package org.intrustd.appkit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.intrustd.core.app.Ranges;

/** JSON replies and RFC 9457 problem documents, never cached. */
public final class Replies {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Replies() {
    }

    /** Bytes {@code from} to {@code to} of a file, inclusive. */
    public record Span(long from, long to) {
        public long length() {
            return to - from + 1;
        }
    }

    /**
     * The part of a file of {@code size} bytes that {@code rq} asks for (RFC 9110 §14): sets the
     * status (200, or 206 with its Content-Range). Empty when the range is unsatisfiable, with
     * {@code Content-Range: bytes *}{@code /size} set for the 416 the caller answers.
     */
    public static Optional<Span> span(Request rq, Response rs, long size) {
        String range = rq.getHeaders().get(HttpHeader.RANGE);
        switch (range == null ? new Ranges.Whole() : Ranges.parse(range, size)) {
            case Ranges.Unsatisfiable u -> {
                rs.getHeaders().put(HttpHeader.CONTENT_RANGE, "bytes */" + size);
                return Optional.empty();
            }
            case Ranges.Part part -> {
                rs.setStatus(206);
                rs.getHeaders().put(HttpHeader.CONTENT_RANGE, "bytes " + part.from() + "-" + part.to() + "/" + size);
                return Optional.of(new Span(part.from(), part.to()));
            }
            case Ranges.Whole w -> {
                rs.setStatus(200);
                return Optional.of(new Span(0, size - 1));
            }
        }
    }

    public static void send(Response rs, Callback cb, int status, JsonNode body) {
        rs.setStatus(status);
        rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        rs.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        try {
            Content.Sink.write(rs, true, JSON.writeValueAsString(body), cb);
        } catch (JsonProcessingException e) {
            cb.failed(e);
        }
    }

    /** A problem document; headers set for a file that is not coming go (Content-Range, Retry-After and the like stay). */
    public static void problem(Response rs, Callback cb, int status, String detail) {
        if (rs.isCommitted()) {
            cb.failed(new IOException(detail));
            return;
        }
        for (HttpHeader h : new HttpHeader[] {HttpHeader.CONTENT_LENGTH, HttpHeader.CONTENT_DISPOSITION, HttpHeader.ETAG,
                HttpHeader.ACCEPT_RANGES}) {
            rs.getHeaders().remove(h);
        }
        rs.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        rs.setStatus(status);
        rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/problem+json");
        ObjectNode body = JSON.createObjectNode().put("type", "about:blank").put("status", status).put("detail", detail);
        Content.Sink.write(rs, true, body.toString(), cb);
    }
}
