package org.intrustd.backups;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.intrustd.appkit.Problem;
import org.intrustd.appkit.Replies;
import org.intrustd.backup.Backend;
import org.intrustd.backup.LocalBackend;
import org.intrustd.core.access.TrustedHeaders;

/**
 * The backups app's HTTP API (docs/backups.md, "The backups app"). Every client works in its
 * own space: a logged-in persona, or a paired appliance calling through its daemon. Files are
 * opaque to the app (sealed by the client), but it checks what it can: a file's name must be
 * the SHA-256 of its bytes (all but {@code config}), so a damaged upload is refused rather
 * than stored, and writes are whole or nothing.
 */
final class BackupsApi extends Handler.Abstract {
    private static final System.Logger LOG = System.getLogger("backups");
    static final ObjectMapper JSON = new ObjectMapper();
    /** The largest file taken: a pack of the largest size a repository may choose, with room for its header. */
    static final long MAX_FILE = 160L << 20;
    /** The most bytes of small files sent in one listing with their contents. */
    static final long MAX_CONTENTS = 32L << 20;


    private final Spaces spaces;

    BackupsApi(Spaces spaces) {
        this.spaces = spaces;
    }

    @Override
    public boolean handle(Request rq, Response rs, Callback cb) {
        String path = Request.getPathInContext(rq);
        String method = rq.getMethod();
        try {
            if (path.equals("/health")) {
                send(rs, cb, 200, JSON.createObjectNode().put("status", "ok"));
                return true;
            }
            if (!path.startsWith("/api/")) {
                throw new Problem(404, "there is nothing at " + path);
            }
            TrustedHeaders.Caller caller = TrustedHeaders.parse(name -> rq.getHeaders().get(name));
            route(method, path.substring(5).split("/", -1), caller, rq, rs, cb);
        } catch (Problem e) {
            problem(rs, cb, e.status, e.getMessage());
        } catch (IllegalArgumentException e) {
            problem(rs, cb, 400, e.getMessage());
        } catch (NoSuchFileException e) {
            problem(rs, cb, 404, "no such file");
        } catch (Exception e) {
            LOG.log(Level.WARNING, method + " " + path + " failed", e);
            problem(rs, cb, 500, "the backups app failed: " + e.getMessage());
        }
        return true;
    }

    /** The client calling: a paired appliance (its daemon says so), or a logged-in persona. */
    static Spaces.Client client(TrustedHeaders.Caller caller, Request rq) {
        String peer = rq.getHeaders().get(TrustedHeaders.PEER);
        if (peer != null && !peer.isBlank()) {
            return Spaces.Client.parse("peer:" + peer.strip()).orElseThrow(() -> new Problem(400, "a malformed peer id"));
        }
        if (caller.persona().isPresent() && caller.role().isPresent()) {
            return new Spaces.Client("persona", caller.persona().get());
        }
        throw new Problem(401, "log in, or call from a paired appliance, to keep backups here");
    }

    private void route(String method, String[] p, TrustedHeaders.Caller caller, Request rq, Response rs, Callback cb)
            throws IOException {
        switch (p[0]) {
            case "me" -> {
                only(method, "GET");
                Spaces.Client c = client(caller, rq);
                send(rs, cb, 200, usage(JSON.createObjectNode().put("client", c.key()), spaces.usage(c)));
            }
            case "repos" -> {
                Spaces.Client c = client(caller, rq);
                if (p.length == 1 || (p.length == 2 && p[1].isEmpty())) {
                    if (method.equals("GET")) {
                        send(rs, cb, 200, repos(c));
                    } else {
                        only(method, "POST");
                        createRepo(c, rq, rs, cb);
                    }
                } else if (p.length == 2) {
                    only(method, "DELETE");
                    repo(c, p[1]);
                    spaces.deleteRepo(c, p[1]);
                    rs.setStatus(204);
                    cb.succeeded();
                } else if (p.length >= 4 && p[2].equals("files")) {
                    files(method, c, repo(c, p[1]), p, rq, rs, cb);
                } else {
                    throw new Problem(404, "no such route");
                }
            }
            case "clients" -> clients(method, p, caller, rq, rs, cb);
            case "recovery" -> recovery(method, p, caller, rq, rs, cb);
            default -> throw new Problem(404, "no such route: /api/" + p[0]);
        }
    }

    private LocalBackend repo(Spaces.Client c, String name) {
        return spaces.repo(c, name).orElseThrow(() -> new Problem(404, "no repository " + name + " here"));
    }

    private ObjectNode repos(Spaces.Client c) throws IOException {
        ObjectNode out = usage(JSON.createObjectNode().put("client", c.key()), spaces.usage(c));
        ArrayNode a = out.putArray("repos");
        for (String name : spaces.repos(c)) {
            LocalBackend b = spaces.repo(c, name).orElseThrow();
            ObjectNode r = a.addObject().put("name", name);
            List<String> snapshots = b.list(Backend.Kind.SNAPSHOT);
            r.put("snapshots", snapshots.size());
            long newest = 0;
            for (String s : snapshots) {
                newest = Math.max(newest, Files.getLastModifiedTime(b.root().resolve("snapshots").resolve(s)).toMillis());
            }
            // When the last snapshot arrived: the app cannot read snapshots, but it sees them come.
            if (newest > 0) {
                r.put("lastSnapshotAt", java.time.Instant.ofEpochMilli(newest).toString());
            }
            r.put("bytes", folderSize(b.root()));
        }
        return out;
    }

    private void createRepo(Spaces.Client c, Request rq, Response rs, Callback cb) throws IOException {
        JsonNode body = readJson(rq);
        String name = body.path("name").asText("");
        if (!Spaces.REPO_NAME.matcher(name).matches()) {
            throw new Problem(400, "a repository name is 1 to 64 letters, digits, '.', '_' or '-', not starting with a dot");
        }
        if (!spaces.create(c, name)) {
            throw new Problem(409, "there is a repository " + name + " here already");
        }
        send(rs, cb, 201, JSON.createObjectNode().put("name", name));
    }

    private void files(String method, Spaces.Client c, LocalBackend b, String[] p, Request rq, Response rs, Callback cb)
            throws IOException {
        Backend.Kind kind = Backend.Kind.ofFolder(p[3]).orElseThrow(() -> new Problem(404, "no kind of file " + p[3]));
        if (p.length == 4 || (p.length == 5 && p[4].isEmpty())) {
            only(method, "GET");
            ObjectNode out = JSON.createObjectNode();
            ArrayNode names = out.putArray("names");
            List<String> all = b.list(kind);
            all.forEach(names::add);
            if ("1".equals(Request.extractQueryParameters(rq).getValue("contents"))) {
                out.set("files", contents(b, kind, all));
            }
            send(rs, cb, 200, out);
            return;
        }
        if (p.length != 5) {
            throw new Problem(404, "no such route");
        }
        String name = p[4];
        if (kind == Backend.Kind.CONFIG ? !name.equals("config") : !name.matches("[0-9a-f]{64}")) {
            throw new Problem(400, "a repository file is named by the SHA-256 of its bytes (64 hex digits), or config");
        }
        switch (method) {
            case "GET", "HEAD" -> get(b, kind, name, rq, rs, cb);
            case "PUT" -> put(c, b, kind, name, rq, rs, cb);
            case "DELETE" -> {
                long size = b.exists(kind, name) ? b.size(kind, name) : 0;
                b.delete(kind, name);
                spaces.release(c, size);
                rs.setStatus(204);
                cb.succeeded();
            }
            default -> throw new Problem(405, method + " is not allowed here");
        }
    }

    /**
     * The small files of a kind with their bytes, so a client reads them in one exchange
     * ({@code ?contents=1}); not packs, and not more than {@value #MAX_CONTENTS} bytes.
     */
    private static ObjectNode contents(LocalBackend b, Backend.Kind kind, List<String> names) throws IOException {
        if (kind == Backend.Kind.PACK) {
            throw new Problem(400, "packs are read one by one");
        }
        ObjectNode files = JSON.createObjectNode();
        long total = 0;
        java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
        for (String name : names) {
            byte[] bytes;
            try {
                bytes = b.get(kind, name);
            } catch (NoSuchFileException e) {
                continue; // deleted since the listing
            }
            total += bytes.length;
            if (total > MAX_CONTENTS) {
                throw new Problem(413, "more than " + (MAX_CONTENTS >> 20) + " MiB of " + kind.folder() + ": read them one by one");
            }
            files.put(name, b64.encodeToString(bytes));
        }
        return files;
    }

    private void put(Spaces.Client c, LocalBackend b, Backend.Kind kind, String name, Request rq, Response rs, Callback cb)
            throws IOException {
        long length = rq.getLength();
        if (length < 0) {
            throw new Problem(411, "send a Content-Length");
        }
        if (length > MAX_FILE) {
            throw new Problem(413, "files over " + (MAX_FILE >> 20) + " MiB are not taken");
        }
        long replaced = b.exists(kind, name) ? b.size(kind, name) : 0;
        if (!spaces.reserve(c, length, replaced)) {
            Spaces.Usage u = spaces.usage(c);
            throw new Problem(507, "this would pass your quota here: " + u.used() + " of " + u.quota().orElse(0L) + " bytes used"
                    + (c.kind().equals("peer") ? " (the owner of this appliance sets how much a friend may keep)" : ""));
        }
        Path temp = b.newTemp();
        boolean stored = false;
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            long got = 0;
            try (InputStream in = Content.Source.asInputStream(rq);
                    FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                byte[] buf = new byte[256 * 1024];
                int n;
                while ((n = in.read(buf)) > 0) {
                    got += n;
                    if (got > length) {
                        throw new Problem(400, "the body is longer than its Content-Length");
                    }
                    sha.update(buf, 0, n);
                    ByteBuffer bb = ByteBuffer.wrap(buf, 0, n);
                    while (bb.hasRemaining()) {
                        out.write(bb);
                    }
                }
            }
            if (got != length) {
                throw new Problem(400, "the body ended after " + got + " of " + length + " bytes");
            }
            if (kind != Backend.Kind.CONFIG && !HexFormat.of().formatHex(sha.digest()).equals(name)) {
                throw new Problem(422, "the bytes do not match their name (damaged on the way?)");
            }
            b.publish(kind, name, temp);
            stored = true;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            if (!stored) {
                Files.deleteIfExists(temp);
                spaces.release(c, length - replaced);
            }
        }
        send(rs, cb, 201, JSON.createObjectNode().put("name", name).put("size", length));
    }

    private static void get(LocalBackend b, Backend.Kind kind, String name, Request rq, Response rs, Callback cb)
            throws IOException {
        if (!b.exists(kind, name)) {
            throw new Problem(404, "no such file");
        }
        long size = b.size(kind, name);
        Replies.Span span = Replies.span(rq, rs, size).orElseThrow(() -> new Problem(416, "the range "
                + rq.getHeaders().get(HttpHeader.RANGE) + " is not within the file's " + size + " bytes"));
        long from = span.from();
        long length = span.length();
        rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
        rs.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
        if (rq.getMethod().equals("HEAD")) {
            cb.succeeded();
            return;
        }
        long left = length;
        long at = from;
        try (OutputStream out = Content.Sink.asOutputStream(rs)) {
            while (left > 0) {
                byte[] part = b.read(kind, name, at, (int) Math.min(left, 1 << 20));
                if (part.length == 0) {
                    break;
                }
                out.write(part);
                at += part.length;
                left -= part.length;
            }
        }
        cb.succeeded();
    }

    /** The appliance's owner sees every client's usage and sets quotas: {@code GET /api/clients}, {@code PUT /api/clients/<key>/quota}. */
    private void clients(String method, String[] p, TrustedHeaders.Caller caller, Request rq, Response rs, Callback cb)
            throws IOException {
        if (!caller.isOwnerOrAdmin()) {
            throw new Problem(403, "only the appliance's owner or an administrator manages clients and quotas");
        }
        if (p.length == 1) {
            only(method, "GET");
            ObjectNode out = JSON.createObjectNode();
            ArrayNode a = out.putArray("clients");
            for (Spaces.Client c : spaces.clients()) {
                ObjectNode n = usage(a.addObject().put("client", c.key()), spaces.usage(c));
                n.set("repos", JSON.valueToTree(spaces.repos(c)));
            }
            send(rs, cb, 200, out);
            return;
        }
        if (p.length == 3 && p[2].equals("quota")) {
            only(method, "PUT");
            Spaces.Client c = Spaces.Client.parse(p[1])
                    .orElseThrow(() -> new Problem(400, "a client is persona:<name> or peer:<appliance ID>"));
            JsonNode body = readJson(rq);
            JsonNode bytes = body.get("bytes");
            if (bytes != null && !bytes.isNull() && (!bytes.canConvertToLong() || bytes.asLong() < 0)) {
                throw new Problem(400, "bytes is a number of bytes, 0 or more, or null for no quota");
            }
            spaces.setQuota(c, bytes == null || bytes.isNull() ? Optional.empty() : Optional.of(bytes.asLong()));
            send(rs, cb, 200, usage(JSON.createObjectNode().put("client", c.key()), spaces.usage(c)));
            return;
        }
        throw new Problem(404, "no such route");
    }

    /**
     * A paired appliance's way back after it is lost (docs/spec/offsite.md): {@code PUT
     * /api/recovery {verifier}} leaves the SHA-256 of a claim derived from its off-site key;
     * {@code POST /api/recovery/claim {from, claim}}, from its new box, takes the lost one's space over.
     */
    private void recovery(String method, String[] p, TrustedHeaders.Caller caller, Request rq, Response rs, Callback cb)
            throws IOException {
        Spaces.Client c = client(caller, rq);
        if (!c.kind().equals("peer")) {
            throw new Problem(403, "recovery is for paired appliances; a person logs in");
        }
        JsonNode body = readJson(rq);
        if (p.length == 1) {
            only(method, "PUT");
            spaces.setVerifier(c, hex32(body, "verifier"));
            rs.setStatus(204);
            cb.succeeded();
            return;
        }
        if (p.length == 2 && p[1].equals("claim")) {
            only(method, "POST");
            Spaces.Client from = Spaces.Client.parse("peer:" + body.path("from").asText(""))
                    .orElseThrow(() -> new Problem(400, "from is the lost appliance's ID"));
            Spaces.Claimed done = spaces.claim(from, c, hex32(body, "claim"));
            LOG.log(Level.INFO, "appliance {0} took over the backups of appliance {1}: {2}", c.name(), from.name(), done.repos());
            ObjectNode out = usage(JSON.createObjectNode().put("client", c.key()), spaces.usage(c));
            out.set("moved", JSON.valueToTree(done.repos()));
            send(rs, cb, 200, out);
            return;
        }
        throw new Problem(404, "no such route");
    }

    private static byte[] hex32(JsonNode body, String field) {
        String hex = body.path(field).asText("");
        if (!hex.matches("[0-9a-f]{64}")) {
            throw new Problem(400, field + " is 64 lower-case hex digits");
        }
        return java.util.HexFormat.of().parseHex(hex);
    }

    private static ObjectNode usage(ObjectNode n, Spaces.Usage u) {
        n.put("used", u.used());
        if (u.quota().isPresent()) {
            n.put("quota", u.quota().get());
        } else {
            n.putNull("quota");
        }
        return n;
    }

    private static long folderSize(Path dir) throws IOException {
        try (var all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static JsonNode readJson(Request rq) throws IOException {
        try (InputStream in = Content.Source.asInputStream(rq)) {
            byte[] body = in.readNBytes(64 * 1024);
            return body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new Problem(400, "the body is not valid JSON");
        }
    }

    private static void only(String method, String allowed) {
        if (!method.equals(allowed)) {
            throw new Problem(405, method + " is not allowed here (" + allowed + " is)");
        }
    }

    static void send(Response rs, Callback cb, int status, JsonNode body) {
        Replies.send(rs, cb, status, body);
    }

    static void problem(Response rs, Callback cb, int status, String detail) {
        Replies.problem(rs, cb, status, detail);
    }
}
