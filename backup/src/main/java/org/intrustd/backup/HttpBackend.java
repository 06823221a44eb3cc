package org.intrustd.backup;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A repository kept by an appliance's backups app, reached through HTTP exchanges (over the
 * end-to-end link from a laptop, or a peer call between appliances). The app stores opaque
 * files and never sees a key (docs/backups.md, "The backups app's API"):
 * <pre>
 *   GET    &lt;base&gt;/files/&lt;kind&gt;/              → {"names": [...]}
 *   GET    &lt;base&gt;/files/&lt;kind&gt;/&lt;name&gt;        (Range: bytes=a-b → 206)
 *   HEAD   &lt;base&gt;/files/&lt;kind&gt;/&lt;name&gt;        → Content-Length
 *   PUT    &lt;base&gt;/files/&lt;kind&gt;/&lt;name&gt;        → 201 (507 when over quota)
 *   DELETE &lt;base&gt;/files/&lt;kind&gt;/&lt;name&gt;        → 204
 * </pre>
 * Thread-safe if its transport is.
 */
public final class HttpBackend implements Backend {
    /** One HTTP exchange; a transport opens whatever connection it needs. */
    public interface Transport extends AutoCloseable {
        Response exchange(String method, String target, Map<String, String> headers, byte[] body) throws IOException;

        @Override
        default void close() throws IOException {
        }
    }

    /** A response with its whole body; header names in lower case. */
    public record Response(int status, Map<String, String> headers, byte[] body) {
        /** The problem body's {@code detail}, or the status. */
        public String detail() {
            try {
                JsonNode n = KeyFile.JSON.readTree(body);
                return n.path("detail").asText("status " + status);
            } catch (IOException | RuntimeException e) {
                return "status " + status;
            }
        }
    }

    private final Transport transport;
    private final String base;
    private final String location;

    /** {@code base} is the repository's path on the app, e.g. {@code /api/repos/laptop}. */
    public HttpBackend(Transport transport, String base, String location) {
        this.transport = transport;
        this.base = base;
        this.location = location;
    }

    private String target(Kind kind, String name) {
        return base + "/files/" + kind.folder() + "/" + name;
    }

    private Response call(String method, String target, Map<String, String> headers, byte[] body) throws IOException {
        Response r = transport.exchange(method, target, headers, body);
        if (r.status() == 404 && !method.equals("HEAD")) {
            throw new NoSuchFileException(target, null, r.detail());
        }
        if (r.status() == 401 || r.status() == 403) {
            throw new BackupException("the backups app refused: " + r.detail());
        }
        if (r.status() == 507 || r.status() == 413) {
            throw new BackupException("the backups app has no room for it: " + r.detail());
        }
        if (r.status() >= 400 && r.status() != 404) {
            throw new IOException("the backups app answered " + r.status() + " to " + method + " " + target + ": " + r.detail());
        }
        return r;
    }

    @Override
    public void put(Kind kind, String name, byte[] data) throws IOException {
        call("PUT", target(kind, name), Map.of("Content-Type", "application/octet-stream"), data);
    }

    @Override
    public byte[] get(Kind kind, String name) throws IOException {
        return call("GET", target(kind, name), Map.of(), new byte[0]).body();
    }

    @Override
    public byte[] read(Kind kind, String name, long offset, int length) throws IOException {
        if (length == 0) {
            return new byte[0];
        }
        Response r = call("GET", target(kind, name), Map.of("Range", "bytes=" + offset + "-" + (offset + length - 1)), new byte[0]);
        if (r.status() == 206) {
            return r.body();
        }
        if (r.status() == 416) {
            return new byte[0];
        }
        // A whole file (a server that ignores ranges): cut out the part.
        byte[] all = r.body();
        int from = (int) Math.min(offset, all.length);
        return java.util.Arrays.copyOfRange(all, from, (int) Math.min(all.length, offset + length));
    }

    @Override
    public long size(Kind kind, String name) throws IOException {
        Response r = call("HEAD", target(kind, name), Map.of(), new byte[0]);
        if (r.status() == 404) {
            throw new NoSuchFileException(target(kind, name));
        }
        return Long.parseLong(r.headers().getOrDefault("content-length", "0"));
    }

    @Override
    public boolean exists(Kind kind, String name) throws IOException {
        return call("HEAD", target(kind, name), Map.of(), new byte[0]).status() == 200;
    }

    @Override
    public List<String> list(Kind kind) throws IOException {
        Response r = call("GET", base + "/files/" + kind.folder() + "/", Map.of(), new byte[0]);
        List<String> out = new ArrayList<>();
        KeyFile.JSON.readTree(r.body()).path("names").forEach(n -> out.add(n.asText()));
        return out;
    }

    /** One exchange for all of them ({@code ?contents=1}); a store that will not (too many bytes) is read file by file. */
    @Override
    public Map<String, byte[]> getAll(Kind kind) throws IOException {
        Response r = transport.exchange("GET", base + "/files/" + kind.folder() + "/?contents=1", Map.of(), new byte[0]);
        if (r.status() != 200) {
            return Backend.super.getAll(kind);
        }
        JsonNode files = KeyFile.JSON.readTree(r.body()).path("files");
        if (!files.isObject()) {
            return Backend.super.getAll(kind);
        }
        Map<String, byte[]> out = new java.util.LinkedHashMap<>();
        var fields = files.fields();
        while (fields.hasNext()) {
            var f = fields.next();
            try {
                out.put(f.getKey(), java.util.Base64.getUrlDecoder().decode(f.getValue().asText()));
            } catch (IllegalArgumentException e) {
                throw new IOException("the backups app sent bad base64 for " + f.getKey());
            }
        }
        return out;
    }

    @Override
    public void delete(Kind kind, String name) throws IOException {
        Response r = transport.exchange("DELETE", target(kind, name), Map.of(), new byte[0]);
        if (r.status() != 204 && r.status() != 404 && r.status() != 200) {
            throw new IOException("the backups app answered " + r.status() + " to DELETE: " + r.detail());
        }
    }

    /** Asks the app for a new, empty repository (its name is the last segment of the base path). */
    @Override
    public void create() throws IOException {
        String name = base.substring(base.lastIndexOf('/') + 1);
        byte[] body = KeyFile.JSON.writeValueAsBytes(Map.of("name", name));
        Response r = transport.exchange("POST", base.substring(0, base.lastIndexOf('/')), Map.of("Content-Type", "application/json"),
                body);
        // 409: it is there already, which is fine for one with no config yet (an init that was cut short).
        if (r.status() != 201 && !(r.status() == 409 && !exists(Kind.CONFIG, "config"))) {
            throw new BackupException("the backups app did not make repository " + name + ": " + r.detail());
        }
    }

    @Override
    public String location() {
        return location;
    }

    @Override
    public void close() throws IOException {
        try {
            transport.close();
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }
}
