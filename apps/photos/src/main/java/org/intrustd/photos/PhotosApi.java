package org.intrustd.photos;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.zip.Deflater;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.intrustd.appkit.Problem;
import org.intrustd.appkit.Replies;
import org.intrustd.core.access.Permission;
import org.intrustd.core.access.TrustedHeaders;

/**
 * The app's HTTP API (docs/photos.md). Handlers block: Jetty runs them on virtual threads.
 * <p>
 * Who may do what: a logged-in persona (the daemon sends a role) has a library of their own
 * and may change it; anyone else, share-link visitors included, may only read the albums and
 * photos named by the {@code photos/view} permissions the daemon says they hold.
 */
final class PhotosApi extends Handler.Abstract {
    private static final System.Logger LOG = System.getLogger("photos.api");
    static final ObjectMapper JSON = new ObjectMapper();
    static final String APP = "photos";
    private static final int MAX_JSON = 64 * 1024;
    private static final int MAX_TAGS = 50;
    private static final int MAX_TAG = 64;
    private static final int MAX_ALBUM_NAME = 120;
    /** Always with seconds (LocalDateTime.toString drops zero seconds). */
    private static final java.time.format.DateTimeFormatter LOCAL_TIME = java.time.format.DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss");
    private static final String IMMUTABLE = "private, max-age=31536000, immutable";


    /** Who is calling: a library's owner, and what else they may view. */
    record Viewer(Optional<String> library, TrustedHeaders.Caller caller) {
        String owner() {
            return library.orElseThrow(() -> new Problem(401, "log in to use your photo library"));
        }

        boolean mayViewAlbum(long album) {
            return caller.has(view("album", album));
        }

        boolean mayViewPhoto(long photo) {
            return caller.has(view("photo", photo));
        }
    }

    static Permission view(String what, long id) {
        return new Permission(APP, "view", Map.of(what, Long.toString(id)));
    }

    private final Photos photos;
    private final Uploads uploads;
    private final Daemon daemon;

    PhotosApi(Photos photos, Uploads uploads, Daemon daemon) {
        this.photos = photos;
        this.uploads = uploads;
        this.daemon = daemon;
    }

    private Library library() {
        return photos.library;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        try {
            if (path.equals("/health")) {
                send(response, callback, 200, JSON.createObjectNode().put("status", "ok"));
                return true;
            }
            if (!path.startsWith("/api/")) {
                throw new Problem(404, "there is nothing at " + path);
            }
            Viewer viewer = viewer(request);
            String[] p = path.substring(5).split("/", -1);
            route(method, p, viewer, request, response, callback);
        } catch (Problem e) {
            problem(response, callback, e.status, e.getMessage());
        } catch (Photos.Refused e) {
            problem(response, callback, e.status, e.getMessage());
        } catch (IllegalArgumentException e) {
            problem(response, callback, 400, e.getMessage());
        } catch (Exception e) {
            LOG.log(Level.WARNING, method + " " + path + " failed", e);
            problem(response, callback, 500, "the photo library failed: " + e.getMessage());
        }
        return true;
    }

    private static Viewer viewer(Request request) {
        TrustedHeaders.Caller caller = TrustedHeaders.parse(name -> request.getHeaders().get(name));
        // A token that acts for a persona carries its name but no role: only a login opens a library.
        Optional<String> library = caller.role().isPresent() ? caller.persona() : Optional.empty();
        return new Viewer(library, caller);
    }

    private void route(String method, String[] p, Viewer v, Request rq, Response rs, Callback cb) throws Exception {
        String first = p[0];
        int n = p.length;
        switch (first) {
            case "me" -> {
                only(method, "GET");
                ObjectNode me = JSON.createObjectNode();
                me.put("persona", v.library().orElse(null));
                me.put("library", v.library().isPresent());
                send(rs, cb, 200, me);
            }
            case "photos" -> {
                if (n == 1) {
                    only(method, "POST");
                    uploadWhole(v, rq, rs, cb);
                } else {
                    long id = id(p[1]);
                    photoRoutes(method, id, n == 2 ? "" : p[2], n, v, rq, rs, cb);
                }
            }
            case "uploads" -> uploadRoutes(method, p, v, rq, rs, cb);
            case "timeline" -> {
                only(method, "GET");
                if (n == 2 && p[1].equals("months")) {
                    send(rs, cb, 200, counts("months", "month", library().months(v.owner())));
                } else {
                    Fields q = Request.extractQueryParameters(rq);
                    sendPage(rs, cb, library().list(Library.Query.timeline(v.owner()), cursor(q), limit(q)));
                }
            }
            case "search" -> {
                only(method, "GET");
                search(v, rq, rs, cb);
            }
            case "tags" -> {
                only(method, "GET");
                send(rs, cb, 200, counts("tags", "tag", library().tags(v.owner())));
            }
            case "cameras" -> {
                only(method, "GET");
                send(rs, cb, 200, counts("cameras", "camera", library().cameras(v.owner())));
            }
            case "trash" -> {
                if (method.equals("DELETE")) {
                    int deleted = photos.emptyTrash(v.owner(), false);
                    send(rs, cb, 200, JSON.createObjectNode().put("deleted", deleted));
                } else {
                    only(method, "GET", "DELETE");
                    Library.Query q = Library.Query.trash(v.owner());
                    Fields f = Request.extractQueryParameters(rq);
                    sendPage(rs, cb, library().list(q, cursor(f), limit(f)));
                }
            }
            case "albums" -> albumRoutes(method, p, v, rq, rs, cb);
            case "shares" -> shareRoutes(method, p, v, rq, rs, cb);
            case "shared" -> {
                only(method, "GET");
                shared(v, rs, cb);
            }
            default -> throw new Problem(404, "there is nothing at /api/" + String.join("/", p));
        }
    }

    // ---- photos -------------------------------------------------------------------------

    private void photoRoutes(String method, long id, String sub, int n, Viewer v, Request rq, Response rs, Callback cb)
            throws Exception {
        if (n > 3) {
            throw new Problem(404, "there is nothing at this path");
        }
        switch (sub) {
            case "" -> {
                if (method.equals("GET")) {
                    Library.Photo photo = viewable(v, id);
                    ObjectNode out = photoJson(photo);
                    if (v.library().filter(photo.owner()::equals).isPresent()) {
                        ArrayNode albums = out.putArray("albums");
                        for (Library.Album a : library().albumsOf(id)) {
                            albums.addObject().put("id", a.id()).put("name", a.name());
                        }
                    }
                    send(rs, cb, 200, out);
                } else if (method.equals("PATCH")) {
                    Library.Photo photo = own(v, id);
                    JsonNode body = readJson(rq);
                    if (body.has("favourite")) {
                        if (!body.get("favourite").isBoolean()) {
                            throw new Problem(400, "'favourite' must be true or false");
                        }
                        library().setFavourite(id, body.get("favourite").asBoolean());
                    }
                    if (body.has("tags")) {
                        library().setTags(photo, tags(body.get("tags")));
                    }
                    send(rs, cb, 200, photoJson(own(v, id)));
                } else if (method.equals("DELETE")) {
                    own(v, id);
                    library().trash(id, Optional.of(photos.clock().millis()));
                    send(rs, cb, 200, photoJson(own(v, id)));
                } else {
                    only(method, "GET", "PATCH", "DELETE");
                }
            }
            case "restore" -> {
                only(method, "POST");
                own(v, id);
                library().trash(id, Optional.empty());
                send(rs, cb, 200, photoJson(own(v, id)));
            }
            case "original" -> {
                only(method, "GET", "HEAD");
                Library.Photo photo = viewable(v, id);
                sendFile(rq, rs, cb, photos.files.original(photo.sha256()), photo.type(), photo.sha256(),
                        Optional.of(photo.name()));
            }
            case "thumb" -> {
                only(method, "GET", "HEAD");
                thumb(viewable(v, id), Request.extractQueryParameters(rq).getValue("size"), rq, rs, cb);
            }
            case "video" -> {
                only(method, "GET", "HEAD");
                Library.Photo photo = viewable(v, id);
                if (!photo.kind().equals("video")) {
                    throw new Problem(404, "photo " + id + " is not a video");
                }
                if (photo.playable()) {
                    sendFile(rq, rs, cb, photos.files.original(photo.sha256()), photo.type(), photo.sha256(), Optional.empty());
                } else if (photo.preview().equals("ready") && photos.preview(photo, "play.mp4").isPresent()) {
                    sendFile(rq, rs, cb, photos.files.derived(photo.sha256(), "play.mp4"), "video/mp4", photo.sha256() + "-play",
                            Optional.empty());
                } else if (photo.preview().equals("pending") || photo.preview().equals("ready")) {
                    rs.getHeaders().put(HttpHeader.RETRY_AFTER, "2");
                    send(rs, cb, 202, JSON.createObjectNode().put("status", "pending")
                            .put("detail", "the video is being converted for browsers"));
                } else {
                    throw new Problem(422, "this video cannot be played in a browser: "
                            + library().previewError(photo.sha256()).orElse("converting it failed"));
                }
            }
            case "shares" -> {
                only(method, "POST");
                own(v, id);
                mint(v, rq, rs, cb, view("photo", id), "photo", id);
            }
            default -> throw new Problem(404, "there is nothing at this path");
        }
    }

    private void thumb(Library.Photo photo, String size, Request rq, Response rs, Callback cb) throws IOException, SQLException {
        String which = size == null ? "s" : size;
        if (!which.equals("s") && !which.equals("l")) {
            throw new Problem(400, "'size' must be s (grid) or l (large)");
        }
        Optional<Path> file = photo.preview().equals("ready") ? photos.preview(photo, which + ".jpg") : Optional.empty();
        if (file.isPresent()) {
            sendFile(rq, rs, cb, file.get(), "image/jpeg", photo.sha256() + "-" + which, Optional.empty());
            return;
        }
        // A placeholder the page can show as is; 202 tells it to ask again.
        boolean pending = photo.preview().equals("pending") || photo.preview().equals("ready");
        String label = pending ? "Preparing preview…" : photo.preview().equals("unsupported")
                ? "No preview for this format" : "Preview failed";
        String svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 320 240\" width=\"320\" height=\"240\">"
                + "<rect width=\"320\" height=\"240\" fill=\"#e5e7eb\"/><text x=\"160\" y=\"125\" text-anchor=\"middle\""
                + " font-family=\"sans-serif\" font-size=\"16\" fill=\"#4b5563\">" + label + "</text></svg>";
        rs.setStatus(pending ? 202 : 200);
        rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "image/svg+xml");
        rs.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        rs.getHeaders().put("X-Preview", photo.preview());
        if (pending) {
            rs.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
        }
        Content.Sink.write(rs, true, svg, cb);
    }

    /** The owner's photo; 404 for anyone else's, whether or not it exists. */
    private Library.Photo own(Viewer v, long id) throws SQLException {
        return library().photo(v.owner(), id).orElseThrow(() -> new Problem(404, "you have no photo " + id));
    }

    /** A photo the caller may see: their own, one shared with them, or one in an album shared with them. */
    private Library.Photo viewable(Viewer v, long id) throws SQLException {
        if (v.library().isPresent()) {
            Optional<Library.Photo> mine = library().photo(v.library().get(), id);
            if (mine.isPresent()) {
                return mine.get();
            }
        }
        Optional<Library.Photo> any = library().anyPhoto(id).filter(x -> x.trashedAt().isEmpty());
        if (any.isPresent() && (v.mayViewPhoto(id) || sharedAlbums(v).stream().anyMatch(a -> inAlbum(a, id)))) {
            return any.get();
        }
        throw new Problem(404, v.library().isPresent() ? "you have no photo " + id : "this link does not show photo " + id);
    }

    private boolean inAlbum(long album, long photo) {
        try {
            return library().inAlbum(album, photo);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The album ids the caller's {@code photos/view} permissions name. */
    private static Set<Long> sharedAlbums(Viewer v) {
        return shared(v, "album");
    }

    private static Set<Long> shared(Viewer v, String key) {
        Set<Long> out = new LinkedHashSet<>();
        for (Permission p : v.caller().permissions()) {
            if (p.app().equals(APP) && p.name().equals("view") && p.params().containsKey(key)) {
                try {
                    out.add(Long.parseLong(p.params().get(key)));
                } catch (NumberFormatException ignored) {
                    // Not one of ours: nothing to show.
                }
            }
        }
        return out;
    }

    // ---- uploads ------------------------------------------------------------------------

    private void uploadWhole(Viewer v, Request rq, Response rs, Callback cb) throws Exception {
        String owner = v.owner();
        Fields q = Request.extractQueryParameters(rq);
        String name = Photos.label(q.getValue("name"));
        Optional<LocalDateTime> modified = fileTime(q.getValue("modified"));
        Photos.Written w;
        try (InputStream body = Content.Source.asInputStream(rq)) {
            w = photos.receive(body, rq.getLength());
        }
        Photos.Added added = photos.add(owner, w, name, modified);
        sendAdded(rs, cb, added);
    }

    private void sendAdded(Response rs, Callback cb, Photos.Added added) throws SQLException {
        ObjectNode out = JSON.createObjectNode();
        out.set("photo", photoJson(added.photo()));
        out.put("duplicate", added.duplicate());
        send(rs, cb, added.duplicate() ? 200 : 201, out);
    }

    private void uploadRoutes(String method, String[] p, Viewer v, Request rq, Response rs, Callback cb) throws Exception {
        String owner = v.owner();
        if (p.length == 1) {
            only(method, "POST");
            JsonNode body = readJson(rq);
            if (!body.path("size").canConvertToExactIntegral()) {
                throw new Problem(400, "'size' must be the file's size in bytes");
            }
            Uploads.State s = uploads.create(owner, text(body, "name", 1000), body.get("size").asLong(),
                    fileTime(body.path("modified").textValue()));
            send(rs, cb, 201, stateJson(s));
            return;
        }
        if (p.length != 2) {
            throw new Problem(404, "there is nothing at this path");
        }
        Library.Upload u = uploads.find(owner, p[1]).orElseThrow(() -> new Problem(404, "no unfinished upload " + p[1]));
        switch (method) {
            case "GET", "HEAD" -> send(rs, cb, 200, stateJson(uploads.state(u)));
            case "DELETE" -> {
                uploads.cancel(u);
                rs.setStatus(204);
                cb.succeeded();
            }
            case "PATCH" -> {
                String at = rq.getHeaders().get("Upload-Offset");
                long offset;
                try {
                    offset = Long.parseLong(at == null ? "" : at.trim());
                } catch (NumberFormatException e) {
                    throw new Problem(400, "a part needs an 'Upload-Offset' header: the offset it starts at");
                }
                Uploads.Appended a;
                try (InputStream body = Content.Source.asInputStream(rq)) {
                    a = uploads.append(u, offset, body);
                } catch (Photos.Refused e) {
                    if (e.status == 409) {
                        rs.getHeaders().put("Upload-Offset", Long.toString(uploads.state(u).offset()));
                    }
                    throw e;
                }
                rs.getHeaders().put("Upload-Offset", Long.toString(a.state().offset()));
                if (a.added().isPresent()) {
                    sendAdded(rs, cb, a.added().get());
                } else {
                    send(rs, cb, 200, stateJson(a.state()));
                }
            }
            default -> only(method, "GET", "PATCH", "DELETE");
        }
    }

    private static ObjectNode stateJson(Uploads.State s) {
        return JSON.createObjectNode().put("id", s.id()).put("offset", s.offset()).put("size", s.size());
    }

    // ---- search -------------------------------------------------------------------------

    private void search(Viewer v, Request rq, Response rs, Callback cb) throws Exception {
        Fields q = Request.extractQueryParameters(rq);
        Optional<Long> album = Optional.ofNullable(q.getValue("album")).filter(s -> !s.isEmpty()).map(PhotosApi::id);
        if (album.isPresent()) {
            requireOwnAlbum(v, album.get());
        }
        Optional<String> kind = Optional.ofNullable(q.getValue("kind")).filter(s -> !s.isEmpty());
        if (kind.isPresent() && !kind.get().equals("image") && !kind.get().equals("video")) {
            throw new Problem(400, "'kind' must be image or video");
        }
        Optional<Boolean> favourite = Optional.ofNullable(q.getValue("favourite")).filter(s -> !s.isEmpty()).map(s -> {
            if (!s.equals("true") && !s.equals("false")) {
                throw new Problem(400, "'favourite' must be true or false");
            }
            return s.equals("true");
        });
        Optional<Long> from = day(q.getValue("from"), "from", 0);
        Optional<Long> to = day(q.getValue("to"), "to", 1);
        Library.Query query = new Library.Query(v.owner(), album,
                Optional.ofNullable(q.getValue("tag")).filter(s -> !s.isEmpty()).map(String::strip),
                Optional.ofNullable(q.getValue("camera")).filter(s -> !s.isEmpty()), favourite, kind, from, to, false);
        sendPage(rs, cb, library().list(query, cursor(q), limit(q)));
    }

    /** A day's start (or, with {@code plusDays} 1, the next day's start) in the library's wall-clock seconds. */
    private static Optional<Long> day(String s, String field, int plusDays) {
        if (s == null || s.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Library.epoch(LocalDate.parse(s).plusDays(plusDays).atStartOfDay()));
        } catch (DateTimeParseException e) {
            throw new Problem(400, "'" + field + "' must be a date, YYYY-MM-DD");
        }
    }

    // ---- albums -------------------------------------------------------------------------

    private void albumRoutes(String method, String[] p, Viewer v, Request rq, Response rs, Callback cb) throws Exception {
        if (p.length == 1) {
            if (method.equals("POST")) {
                String name = albumName(readJson(rq));
                long id = library().createAlbum(v.owner(), name, photos.clock().millis());
                send(rs, cb, 201, albumJson(library().album(id).orElseThrow()));
            } else {
                only(method, "GET", "POST");
                ArrayNode list = JSON.createArrayNode();
                for (Library.Album a : library().albums(v.owner())) {
                    list.add(albumJson(a));
                }
                send(rs, cb, 200, JSON.createObjectNode().set("albums", list));
            }
            return;
        }
        long id = id(p[1]);
        String sub = p.length > 2 ? p[2] : "";
        switch (sub) {
            case "" -> {
                if (p.length != 2) {
                    throw new Problem(404, "there is nothing at this path");
                }
                switch (method) {
                    case "GET" -> {
                        Library.Album album = viewableAlbum(v, id);
                        Fields q = Request.extractQueryParameters(rq);
                        Library.Page page = library().list(Library.Query.album(album.owner(), id),
                                cursor(q), limit(q));
                        ObjectNode out = pageJson(page);
                        out.set("album", albumJson(album));
                        send(rs, cb, 200, out);
                    }
                    case "PATCH" -> {
                        requireOwnAlbum(v, id);
                        JsonNode body = readJson(rq);
                        if (body.has("name")) {
                            library().renameAlbum(id, albumName(body));
                        }
                        if (body.has("cover")) {
                            if (!body.get("cover").canConvertToExactIntegral()) {
                                throw new Problem(400, "'cover' must be a photo id");
                            }
                            long cover = body.get("cover").asLong();
                            if (!library().inAlbum(id, cover)) {
                                throw new Problem(422, "photo " + cover + " is not in this album");
                            }
                            library().setCover(id, cover);
                        }
                        send(rs, cb, 200, albumJson(library().album(id).orElseThrow()));
                    }
                    case "DELETE" -> {
                        requireOwnAlbum(v, id);
                        library().deleteAlbum(id);
                        rs.setStatus(204);
                        cb.succeeded();
                    }
                    default -> only(method, "GET", "PATCH", "DELETE");
                }
            }
            case "photos" -> {
                requireOwnAlbum(v, id);
                if (p.length == 3) {
                    only(method, "POST");
                    JsonNode list = readJson(rq).path("photos");
                    if (!list.isArray() || list.isEmpty() || list.size() > 10_000) {
                        throw new Problem(400, "'photos' must be a list of 1 to 10,000 photo ids");
                    }
                    List<Library.Photo> adding = new ArrayList<>();
                    for (JsonNode x : list) {
                        if (!x.canConvertToExactIntegral()) {
                            throw new Problem(400, "'photos' must hold photo ids");
                        }
                        adding.add(own(v, x.asLong()));
                    }
                    library().addToAlbum(id, adding);
                } else {
                    only(method, "DELETE");
                    library().removeFromAlbum(id, id(p[3]));
                }
                send(rs, cb, 200, albumJson(library().album(id).orElseThrow()));
            }
            case "zip" -> {
                only(method, "GET");
                zip(viewableAlbum(v, id), rs, cb);
            }
            case "shares" -> {
                only(method, "POST");
                requireOwnAlbum(v, id);
                mint(v, rq, rs, cb, view("album", id), "album", id);
            }
            default -> throw new Problem(404, "there is nothing at this path");
        }
    }

    private Library.Album requireOwnAlbum(Viewer v, long id) throws SQLException {
        String owner = v.owner();
        return library().album(id).filter(a -> a.owner().equals(owner))
                .orElseThrow(() -> new Problem(404, "you have no album " + id));
    }

    private Library.Album viewableAlbum(Viewer v, long id) throws SQLException {
        Optional<Library.Album> album = library().album(id);
        if (album.isPresent() && (v.library().filter(album.get().owner()::equals).isPresent() || v.mayViewAlbum(id))) {
            return album.get();
        }
        throw new Problem(404, v.library().isPresent() ? "you have no album " + id : "this link does not show album " + id);
    }

    private static String albumName(JsonNode body) {
        String name = text(body, "name", MAX_ALBUM_NAME).strip();
        if (name.isEmpty()) {
            throw new Problem(400, "an album needs a name");
        }
        return name;
    }

    /**
     * The album's originals as a ZIP, streamed as it is written (no temporary file, memory
     * bounded by one buffer). Photos are already compressed, so entries are stored at level 0.
     */
    private void zip(Library.Album album, Response rs, Callback cb) throws Exception {
        rs.setStatus(200);
        rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/zip");
        rs.getHeaders().put(HttpHeader.CONTENT_DISPOSITION, disposition(album.name() + ".zip"));
        Set<String> names = new HashSet<>();
        try (OutputStream out = Content.Sink.asOutputStream(rs); ZipOutputStream zip = new ZipOutputStream(out)) {
            zip.setLevel(Deflater.NO_COMPRESSION);
            Optional<Library.Cursor> after = Optional.empty();
            Library.Query q = Library.Query.album(album.owner(), album.id());
            do {
                Library.Page page = library().list(q, after, Library.MAX_PAGE);
                for (Library.Photo photo : page.photos()) {
                    zip.putNextEntry(new ZipEntry(unique(names, photo.name())));
                    Files.copy(photos.files.original(photo.sha256()), zip);
                    zip.closeEntry();
                }
                after = page.next();
            } while (after.isPresent());
        }
        cb.succeeded();
    }

    private static String unique(Set<String> names, String name) {
        String candidate = name;
        int dot = name.lastIndexOf('.');
        for (int i = 2; !names.add(candidate); i++) {
            candidate = dot > 0 ? name.substring(0, dot) + " (" + i + ")" + name.substring(dot) : name + " (" + i + ")";
        }
        return candidate;
    }

    // ---- sharing ------------------------------------------------------------------------

    private void mint(Viewer v, Request rq, Response rs, Callback cb, Permission perm, String what, long id) throws Exception {
        JsonNode body = rq.getLength() == 0 ? JSON.createObjectNode() : readJson(rq);
        ObjectNode ask = JSON.createObjectNode();
        ask.put("request", rq.getHeaders().get(TrustedHeaders.REQUEST));
        ask.putArray("permissions").add(perm.toString());
        ask.put("label", body.hasNonNull("label") ? text(body, "label", 200) : "photos: " + what + " " + id);
        if (body.hasNonNull("expiresIn")) {
            ask.put("expiresIn", text(body, "expiresIn", 16));
        }
        Daemon.Answer answer = daemonCall("POST", "/v1/tokens", ask);
        ObjectNode out = shareJson(answer.body());
        out.put("fragment", answer.body().path("fragment").asText());
        send(rs, cb, 201, out);
    }

    private void shareRoutes(String method, String[] p, Viewer v, Request rq, Response rs, Callback cb) throws Exception {
        String owner = v.owner();
        List<JsonNode> mine = new ArrayList<>();
        for (JsonNode t : daemonCall("GET", "/v1/tokens", null).body().path("tokens")) {
            if (owner.equals(t.path("persona").asText()) && !t.has("revoked")) {
                mine.add(t);
            }
        }
        if (p.length == 1) {
            only(method, "GET");
            ArrayNode list = JSON.createArrayNode();
            mine.forEach(t -> list.add(shareJson(t)));
            send(rs, cb, 200, JSON.createObjectNode().set("shares", list));
            return;
        }
        only(method, "DELETE");
        if (p.length != 2 || mine.stream().noneMatch(t -> t.path("id").asText().equals(p[1]))) {
            throw new Problem(404, "you have no share link " + p[1]);
        }
        daemonCall("DELETE", "/v1/tokens/" + p[1], null);
        rs.setStatus(204);
        cb.succeeded();
    }

    private Daemon.Answer daemonCall(String method, String target, JsonNode body) {
        Daemon.Answer a;
        try {
            a = daemon.call(method, target, body);
        } catch (IOException e) {
            throw new Problem(503, "the appliance cannot make share links now: " + e.getMessage());
        }
        if (!a.ok()) {
            throw new Problem(a.status() == 403 ? 403 : 502, a.detail());
        }
        return a;
    }

    /** A token as the gallery shows it: what it shows, not the daemon's permission names. */
    private static ObjectNode shareJson(JsonNode token) {
        ObjectNode out = JSON.createObjectNode();
        out.put("id", token.path("id").asText());
        out.put("label", token.path("label").asText());
        out.put("uses", token.path("uses").asLong());
        out.put("createdAt", token.path("created").asText(null));
        out.put("expiresAt", token.path("expires").asText(null));
        for (JsonNode perm : token.path("permissions")) {
            Permission.tryParse(perm.asText()).filter(x -> x.app().equals(APP)).ifPresent(x -> x.params().forEach((k, val) -> {
                if (k.equals("album") || k.equals("photo")) {
                    out.put(k, Long.parseLong(val));
                }
            }));
        }
        return out;
    }

    private void shared(Viewer v, Response rs, Callback cb) throws SQLException {
        ArrayNode albums = JSON.createArrayNode();
        for (long id : sharedAlbums(v)) {
            library().album(id).ifPresent(a -> albums.add(albumJson(a)));
        }
        ArrayNode list = JSON.createArrayNode();
        for (long id : shared(v, "photo")) {
            Optional<Library.Photo> photo = library().anyPhoto(id).filter(x -> x.trashedAt().isEmpty());
            if (photo.isPresent()) {
                list.add(photoJson(photo.get()));
            }
        }
        ObjectNode out = JSON.createObjectNode();
        out.set("albums", albums);
        out.set("photos", list);
        send(rs, cb, 200, out);
    }

    // ---- JSON ---------------------------------------------------------------------------

    static ObjectNode photoJson(Library.Photo p) {
        ObjectNode n = JSON.createObjectNode();
        n.put("id", p.id()).put("kind", p.kind()).put("name", p.name()).put("type", p.type()).put("size", p.size())
                .put("sha256", p.sha256()).put("takenAt", LOCAL_TIME.format(p.takenAt())).put("takenFrom", p.takenFrom())
                .put("width", p.width()).put("height", p.height()).put("orientation", p.orientation())
                .put("camera", p.camera().orElse(null)).put("lens", p.lens().orElse(null));
        if (p.gps().isPresent()) {
            n.putObject("gps").put("lat", p.gps().get()[0]).put("lon", p.gps().get()[1]);
        } else {
            n.putNull("gps");
        }
        if (p.durationMs().isPresent()) {
            n.put("durationMs", p.durationMs().get());
        } else {
            n.putNull("durationMs");
        }
        n.put("favourite", p.favourite());
        ArrayNode tags = n.putArray("tags");
        p.tags().forEach(tags::add);
        n.put("trashedAt", p.trashedAt().map(t -> Instant.ofEpochMilli(t).toString()).orElse(null));
        n.put("preview", p.preview()).put("uploadedAt", Instant.ofEpochMilli(p.uploadedAt()).toString());
        return n;
    }

    private static ObjectNode albumJson(Library.Album a) {
        ObjectNode n = JSON.createObjectNode().put("id", a.id()).put("name", a.name()).put("count", a.count());
        if (a.cover().isPresent()) {
            n.put("cover", a.cover().get());
        } else {
            n.putNull("cover");
        }
        return n.put("createdAt", Instant.ofEpochMilli(a.createdAt()).toString());
    }

    private static ObjectNode pageJson(Library.Page page) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode list = out.putArray("photos");
        page.photos().forEach(p -> list.add(photoJson(p)));
        out.put("next", page.next().map(Object::toString).orElse(null));
        return out;
    }

    private static void sendPage(Response rs, Callback cb, Library.Page page) {
        send(rs, cb, 200, pageJson(page));
    }

    private static ObjectNode counts(String list, String key, List<Map.Entry<String, Long>> rows) {
        ObjectNode out = JSON.createObjectNode();
        ArrayNode a = out.putArray(list);
        rows.forEach(e -> a.addObject().put(key, e.getKey()).put("count", e.getValue()));
        return out;
    }

    // ---- request parsing ----------------------------------------------------------------

    private static JsonNode readJson(Request rq) throws IOException {
        byte[] bytes;
        try (InputStream in = Content.Source.asInputStream(rq)) {
            bytes = in.readNBytes(MAX_JSON + 1);
        }
        if (bytes.length > MAX_JSON) {
            throw new Problem(413, "a JSON body is at most " + MAX_JSON / 1024 + " KiB");
        }
        try {
            JsonNode n = JSON.readTree(bytes);
            if (n == null || !n.isObject()) {
                throw new Problem(400, "the body must be a JSON object");
            }
            return n;
        } catch (JsonProcessingException e) {
            throw new Problem(400, "the body is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static String text(JsonNode body, String field, int max) {
        JsonNode n = body.get(field);
        if (n == null || !n.isTextual()) {
            throw new Problem(400, "'" + field + "' must be a string");
        }
        String s = n.asText();
        if (s.length() > max || s.chars().anyMatch(Character::isISOControl)) {
            throw new Problem(400, "'" + field + "' must be at most " + max + " characters, without control characters");
        }
        return s;
    }

    private static List<String> tags(JsonNode n) {
        if (!n.isArray() || n.size() > MAX_TAGS) {
            throw new Problem(400, "'tags' must be a list of at most " + MAX_TAGS + " tags");
        }
        Set<String> out = new LinkedHashSet<>();
        for (JsonNode t : n) {
            String s = t.isTextual() ? t.asText().strip() : "";
            if (s.isEmpty() || s.length() > MAX_TAG || s.chars().anyMatch(Character::isISOControl)) {
                throw new Problem(400, "a tag is 1 to " + MAX_TAG + " characters, without control characters");
            }
            out.add(s);
        }
        return List.copyOf(out);
    }

    static long id(String s) {
        try {
            long v = Long.parseLong(s);
            if (v > 0) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // Said below.
        }
        throw new Problem(404, "'" + (s.length() > 40 ? s.substring(0, 40) + "…" : s) + "' is not an id here");
    }

    private static Optional<Library.Cursor> cursor(Fields q) {
        return Library.Cursor.parse(q.getValue("cursor"));
    }

    private static int limit(Fields q) {
        String s = q.getValue("limit");
        if (s == null || s.isEmpty()) {
            return 100;
        }
        try {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= Library.MAX_PAGE) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // Said below.
        }
        throw new Problem(400, "'limit' must be a number from 1 to " + Library.MAX_PAGE);
    }

    /**
     * A file's time as the sender's clock showed it: an ISO time with the sender's offset
     * ({@code 2024-07-05T14:03:22+02:00}) is dated 14:03, as a camera's EXIF date would be; a
     * time in UTC ({@code …Z}) is dated in UTC.
     */
    static Optional<LocalDateTime> fileTime(String s) {
        if (s == null || s.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(OffsetDateTime.parse(s).toLocalDateTime());
        } catch (DateTimeParseException e) {
            throw new Problem(400, "'modified' must be the file's time with the sender's UTC offset, like 2024-07-05T14:03:22+02:00"
                    + " (or …Z for UTC)");
        }
    }

    private static void only(String method, String... allowed) {
        for (String a : allowed) {
            if (a.equals(method)) {
                return;
            }
        }
        throw new Problem(405, "use " + String.join(" or ", allowed) + " here");
    }

    // ---- responses ----------------------------------------------------------------------

    static void send(Response rs, Callback cb, int status, JsonNode body) {
        Replies.send(rs, cb, status, body);
    }

    static void problem(Response rs, Callback cb, int status, String detail) {
        Replies.problem(rs, cb, status, detail);
    }

    /**
     * A file with {@code Range} support (one range; several are answered with the whole file,
     * as RFC 9110 allows), an ETag from its content hash, and caching for good: content never
     * changes under a name.
     */
    private static void sendFile(Request rq, Response rs, Callback cb, Path file, String type, String etag,
            Optional<String> attachment) throws IOException {
        long size;
        try {
            size = Files.size(file);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new Problem(404, "this file is missing from the appliance's storage");
        }
        String tag = "\"" + etag + "\"";
        rs.getHeaders().put(HttpHeader.ETAG, tag);
        rs.getHeaders().put(HttpHeader.CACHE_CONTROL, IMMUTABLE);
        rs.getHeaders().put(HttpHeader.ACCEPT_RANGES, "bytes");
        rs.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        rs.getHeaders().put("X-Content-Type-Options", "nosniff");
        attachment.ifPresent(name -> rs.getHeaders().put(HttpHeader.CONTENT_DISPOSITION, disposition(name)));
        if (tag.equals(rq.getHeaders().get(HttpHeader.IF_NONE_MATCH))) {
            rs.setStatus(304);
            cb.succeeded();
            return;
        }
        Replies.Span span = Replies.span(rq, rs, size).orElseThrow(() -> new Problem(416, "the range "
                + rq.getHeaders().get(HttpHeader.RANGE) + " is not within the file's " + size + " bytes"));
        long from = span.from();
        long length = span.length();
        rs.getHeaders().put(HttpHeader.CONTENT_LENGTH, length);
        if (rq.getMethod().equals("HEAD")) {
            cb.succeeded();
            return;
        }
        try (var ch = java.nio.channels.FileChannel.open(file); OutputStream out = Content.Sink.asOutputStream(rs)) {
            ch.position(from);
            InputStream in = java.nio.channels.Channels.newInputStream(ch);
            byte[] buf = new byte[256 * 1024];
            long left = length;
            int n;
            while (left > 0 && (n = in.read(buf, 0, (int) Math.min(buf.length, left))) > 0) {
                out.write(buf, 0, n);
                left -= n;
            }
        }
        cb.succeeded();
    }

    /** {@code attachment} with the name in both forms browsers read (RFC 6266). */
    private static String disposition(String name) {
        String ascii = name.replaceAll("[^\\x20-\\x7e]|[\"\\\\]", "_");
        String encoded = java.net.URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
        return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
    }
}
