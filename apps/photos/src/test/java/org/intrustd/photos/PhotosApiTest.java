package org.intrustd.photos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.intrustd.core.app.UnixHttp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The app's API over its real Unix socket, with real files, SQLite, vipsthumbnail and ffmpeg. */
class PhotosApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Map<String, String> ALICE = caller("alice", "owner", "intrustd+perm://intrustd/admin");
    static final Map<String, String> BOB = caller("bob", "member", null);

    Path dir;
    Path socket;
    PhotosApp.Running app;

    static Map<String, String> caller(String persona, String role, String permissions) {
        Map<String, String> h = new LinkedHashMap<>();
        h.put("X-Intrustd-Appliance", "TEST");
        if (persona != null) {
            h.put("X-Intrustd-Persona", persona);
        }
        if (role != null) {
            h.put("X-Intrustd-Role", role);
        }
        if (permissions != null) {
            h.put("X-Intrustd-Permissions", permissions);
        }
        return h;
    }

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "ph");
        socket = dir.resolve("s");
        app = PhotosApp.start(socket, Files.createDirectories(dir.resolve("data")), new Daemon(Optional.empty()), 2);
    }

    @AfterEach
    void stop() throws IOException {
        app.close();
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    UnixHttp.Response call(Map<String, String> who, String method, String target, byte[] body, Map<String, String> extra)
            throws IOException {
        Map<String, String> h = new LinkedHashMap<>(who);
        h.putAll(extra);
        return UnixHttp.exchange(socket, method, "photos", target, h, body);
    }

    UnixHttp.Response call(Map<String, String> who, String method, String target) throws IOException {
        return call(who, method, target, new byte[0], Map.of());
    }

    UnixHttp.Response json(Map<String, String> who, String method, String target, String body) throws IOException {
        return call(who, method, target, body.getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
    }

    static JsonNode body(UnixHttp.Response r) throws IOException {
        return JSON.readTree(r.body());
    }

    JsonNode upload(Map<String, String> who, String name, byte[] bytes, int status) throws IOException {
        UnixHttp.Response r = call(who, "POST", "/api/photos?name=" + java.net.URLEncoder.encode(name, StandardCharsets.UTF_8),
                bytes, Map.of("Content-Type", "image/jpeg"));
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        return body(r);
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    @Test
    void anUploadKeepsTheOriginalReadsItsExifAndMakesUprightPreviews() throws Exception {
        byte[] original = TestImages.withExif(TestImages.jpeg(400, 200, 1),
                new TestImages.Exif("Canon", "Canon EOS R5", 6, "2024:07:05 14:03:22", 48.8584, -2.2945));
        JsonNode added = upload(ALICE, "IMG_0001.JPG", original, 201);
        assertThat(added.get("duplicate").asBoolean()).isFalse();
        JsonNode photo = added.get("photo");
        assertThat(photo.get("takenAt").asText()).isEqualTo("2024-07-05T14:03:22");
        assertThat(photo.get("takenFrom").asText()).isEqualTo("exif");
        assertThat(photo.get("camera").asText()).isEqualTo("Canon EOS R5");
        assertThat(photo.get("orientation").asInt()).isEqualTo(6);
        // Orientation 6 turns the picture a quarter: upright it is 200 wide and 400 high.
        assertThat(photo.get("width").asInt()).isEqualTo(200);
        assertThat(photo.get("height").asInt()).isEqualTo(400);
        assertThat(photo.get("gps").get("lat").asDouble()).isCloseTo(48.8584, org.assertj.core.data.Offset.offset(1e-4));
        assertThat(photo.get("gps").get("lon").asDouble()).isCloseTo(-2.2945, org.assertj.core.data.Offset.offset(1e-4));
        assertThat(photo.get("sha256").asText()).isEqualTo(sha256(original));
        long id = photo.get("id").asLong();

        UnixHttp.Response got = call(ALICE, "GET", "/api/photos/" + id + "/original");
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.body()).isEqualTo(original);
        assertThat(got.headers().get("Content-Disposition")).contains("IMG_0001.JPG");

        assertThat(app.awaitPreviews(60, TimeUnit.SECONDS)).isTrue();
        assertThat(body(call(ALICE, "GET", "/api/photos/" + id)).get("preview").asText()).isEqualTo("ready");
        BufferedImage large = TestImages.read(call(ALICE, "GET", "/api/photos/" + id + "/thumb?size=l").body());
        assertThat(large.getWidth()).isEqualTo(200);
        assertThat(large.getHeight()).isEqualTo(400);
        BufferedImage small = TestImages.read(call(ALICE, "GET", "/api/photos/" + id + "/thumb?size=s").body());
        assertThat(Math.max(small.getWidth(), small.getHeight())).isEqualTo(360);
        assertThat(small.getHeight()).isGreaterThan(small.getWidth());
        // The white mark was top-left of the stored picture; turned 90° clockwise, it is top-right.
        assertThat(small.getRGB(small.getWidth() - 5, 5) & 0xFFFFFF).isGreaterThan(0xE0E0E0);

        // A preview lost (previews are not forced to disk: a power cut may take one) is made again.
        Files.delete(dir.resolve("data/derived").resolve(photo.get("sha256").asText() + "-s.jpg"));
        UnixHttp.Response placeholder = call(ALICE, "GET", "/api/photos/" + id + "/thumb?size=s");
        assertThat(placeholder.status()).isEqualTo(202);
        assertThat(placeholder.headers().get("Content-Type")).startsWith("image/svg+xml");
        assertThat(app.awaitPreviews(60, TimeUnit.SECONDS)).isTrue();
        assertThat(call(ALICE, "GET", "/api/photos/" + id + "/thumb?size=s").status()).isEqualTo(200);
    }

    @Test
    void theSameFileIsStoredOnceAndIsADuplicateForItsOwner() throws Exception {
        byte[] jpeg = TestImages.jpeg(64, 48, 2);
        long first = upload(ALICE, "a.jpg", jpeg, 201).get("photo").get("id").asLong();
        JsonNode again = upload(ALICE, "copy of a.jpg", jpeg, 200);
        assertThat(again.get("duplicate").asBoolean()).isTrue();
        assertThat(again.get("photo").get("id").asLong()).isEqualTo(first);
        long bobs = upload(BOB, "a.jpg", jpeg, 201).get("photo").get("id").asLong();
        assertThat(bobs).isNotEqualTo(first);
        try (Stream<Path> files = Files.walk(dir.resolve("data/originals"))) {
            assertThat(files.filter(Files::isRegularFile).count()).isEqualTo(1);
        }
        // Bob does not see Alice's library, nor she his (except as an admin who asks by id).
        assertThat(body(call(BOB, "GET", "/api/timeline")).get("photos")).hasSize(1);
        assertThat(call(BOB, "GET", "/api/photos/" + first).status()).isEqualTo(404);

        // Alice empties her trash: Bob's copy keeps the file.
        call(ALICE, "DELETE", "/api/photos/" + first);
        assertThat(body(call(ALICE, "DELETE", "/api/trash")).get("deleted").asInt()).isEqualTo(1);
        assertThat(call(BOB, "GET", "/api/photos/" + bobs + "/original").body()).isEqualTo(jpeg);
        call(BOB, "DELETE", "/api/photos/" + bobs);
        call(BOB, "DELETE", "/api/trash");
        try (Stream<Path> files = Files.walk(dir.resolve("data/originals"))) {
            assertThat(files.filter(Files::isRegularFile).count()).isZero();
        }
    }

    @Test
    void aResumableUploadGoesOnFromTheOffsetTheAppHas() throws Exception {
        byte[] jpeg = TestImages.jpeg(800, 600, 3);
        JsonNode created = body(json(ALICE, "POST", "/api/uploads",
                "{\"name\":\"big.jpg\",\"size\":" + jpeg.length + ",\"modified\":\"2023-01-02T23:04:05-05:00\"}"));
        String id = created.get("id").asText();
        int third = jpeg.length / 3;
        UnixHttp.Response part = call(ALICE, "PATCH", "/api/uploads/" + id, java.util.Arrays.copyOfRange(jpeg, 0, third),
                Map.of("Upload-Offset", "0"));
        assertThat(body(part).get("offset").asLong()).isEqualTo(third);
        // A client that lost track sends from the wrong place: refused with the real offset.
        UnixHttp.Response wrong = call(ALICE, "PATCH", "/api/uploads/" + id, new byte[] {1, 2, 3}, Map.of("Upload-Offset", "5"));
        assertThat(wrong.status()).isEqualTo(409);
        assertThat(wrong.headers().get("Upload-Offset")).isEqualTo(Integer.toString(third));
        assertThat(body(call(ALICE, "GET", "/api/uploads/" + id)).get("offset").asLong()).isEqualTo(third);
        // Bob cannot see or write Alice's upload.
        assertThat(call(BOB, "GET", "/api/uploads/" + id).status()).isEqualTo(404);
        // Too much is refused and nothing of that part is kept.
        UnixHttp.Response over = call(ALICE, "PATCH", "/api/uploads/" + id,
                new byte[jpeg.length], Map.of("Upload-Offset", Integer.toString(third)));
        assertThat(over.status()).isEqualTo(413);
        assertThat(body(call(ALICE, "GET", "/api/uploads/" + id)).get("offset").asLong()).isEqualTo(third);
        call(ALICE, "PATCH", "/api/uploads/" + id, java.util.Arrays.copyOfRange(jpeg, third, 2 * third),
                Map.of("Upload-Offset", Integer.toString(third)));
        UnixHttp.Response last = call(ALICE, "PATCH", "/api/uploads/" + id, java.util.Arrays.copyOfRange(jpeg, 2 * third, jpeg.length),
                Map.of("Upload-Offset", Integer.toString(2 * third)));
        assertThat(last.status()).as(last.text()).isEqualTo(201);
        JsonNode photo = body(last).get("photo");
        assertThat(photo.get("sha256").asText()).isEqualTo(sha256(jpeg));
        // No EXIF: the file's own time stands in, as the sender's clock showed it (not 04:04 the next day in UTC).
        assertThat(photo.get("takenAt").asText()).isEqualTo("2023-01-02T23:04:05");
        assertThat(photo.get("takenFrom").asText()).isEqualTo("file");
        assertThat(call(ALICE, "GET", "/api/uploads/" + id).status()).isEqualTo(404);
        assertThat(call(ALICE, "GET", "/api/photos/" + photo.get("id").asLong() + "/original").body()).isEqualTo(jpeg);
        UnixHttp.Response undated = json(ALICE, "POST", "/api/uploads", "{\"name\":\"x.jpg\",\"size\":10,\"modified\":\"yesterday\"}");
        assertThat(undated.status()).isEqualTo(400);
        assertThat(undated.text()).contains("UTC offset");
    }

    @Test
    void badFilesAreRefusedWithAReasonAndLeaveNothingBehind() throws Exception {
        byte[] jpeg = TestImages.jpeg(320, 240, 4);
        assertThat(upload(ALICE, "empty.jpg", new byte[0], 422).get("detail").asText()).contains("empty");
        assertThat(upload(ALICE, "notes.jpg", "just some text, whatever the Content-Type says".getBytes(StandardCharsets.UTF_8),
                422).get("detail").asText()).contains("not a photo or video");
        assertThat(upload(ALICE, "cut.jpg", java.util.Arrays.copyOf(jpeg, jpeg.length / 2), 422).get("detail").asText())
                .contains("truncated");
        assertThat(upload(ALICE, "bomb.jpg", TestImages.claimingSize(jpeg, 50_000, 50_000), 422).get("detail").asText())
                .contains("50000 × 50000");
        byte[] png = TestImages.png(64, 64);
        assertThat(upload(ALICE, "bomb.png", TestImages.pngClaimingSize(png, 60_000, 60_000), 422).get("detail").asText())
                .contains("megapixels");
        assertThat(upload(ALICE, "cut.png", java.util.Arrays.copyOf(png, png.length - 12), 422).get("detail").asText())
                .contains("truncated");
        byte[] header = java.util.Arrays.copyOf(jpeg, 20);
        assertThat(upload(ALICE, "header-only.jpg", header, 422).get("detail").asText()).isNotBlank();
        // A path in the name is only a label.
        JsonNode ok = upload(ALICE, "../../../etc/passwd.jpg", jpeg, 201);
        assertThat(ok.get("photo").get("name").asText()).isEqualTo("passwd.jpg");
        assertThat(upload(ALICE, "..\\..\\evil.jpg", TestImages.jpeg(10, 10, 5), 201).get("photo").get("name").asText())
                .isEqualTo("evil.jpg");

        assertThat(body(call(ALICE, "GET", "/api/timeline")).get("photos")).hasSize(2);
        // Once the two good photos' previews are made (they are written in tmp/ too), nothing is left there.
        assertThat(app.awaitPreviews(60, TimeUnit.SECONDS)).isTrue();
        try (Stream<Path> left = Files.list(dir.resolve("data/tmp"))) {
            assertThat(left).isEmpty();
        }
        // Bad requests of other kinds: clear statuses, never a 500.
        assertThat(call(ALICE, "GET", "/api/photos/abc").status()).isEqualTo(404);
        assertThat(call(ALICE, "GET", "/api/photos/-1").status()).isEqualTo(404);
        assertThat(call(ALICE, "GET", "/api/timeline?limit=0").status()).isEqualTo(400);
        assertThat(call(ALICE, "GET", "/api/timeline?cursor=x.y").status()).isEqualTo(400);
        assertThat(call(ALICE, "GET", "/api/search?from=yesterday").status()).isEqualTo(400);
        assertThat(json(ALICE, "POST", "/api/albums", "{\"name\": 5}").status()).isEqualTo(400);
        assertThat(json(ALICE, "POST", "/api/albums", "{not json").status()).isEqualTo(400);
        assertThat(json(ALICE, "POST", "/api/uploads", "{\"name\":\"x\",\"size\":0}").status()).isEqualTo(422);
        assertThat(call(ALICE, "PUT", "/api/timeline").status()).isEqualTo(405);
        assertThat(call(caller(null, null, null), "GET", "/api/timeline").status()).isEqualTo(401);
        assertThat(call(caller(null, null, null), "POST", "/api/photos?name=x.jpg", jpeg, Map.of()).status()).isEqualTo(401);
    }

    @Test
    void timelineAlbumsTagsFavouritesSearchAndTrash() throws Exception {
        long[] ids = new long[7];
        for (int i = 0; i < ids.length; i++) {
            byte[] jpeg = TestImages.withExif(TestImages.jpeg(32, 32, 100 + i), new TestImages.Exif(i % 2 == 0 ? "Nikon" : "Fujifilm",
                    i % 2 == 0 ? "Z 6" : "X-T4", 1, "2024:0" + (1 + i % 3) + ":1" + i + " 10:00:00", 1, 1));
            ids[i] = upload(ALICE, "p" + i + ".jpg", jpeg, 201).get("photo").get("id").asLong();
        }
        // Pages of 3, newest first, with the cursor; together they are the whole timeline in order.
        java.util.List<String> seen = new java.util.ArrayList<>();
        String cursor = "";
        do {
            JsonNode page = body(call(ALICE, "GET", "/api/timeline?limit=3" + (cursor.isEmpty() ? "" : "&cursor=" + cursor)));
            page.get("photos").forEach(p -> seen.add(p.get("takenAt").asText()));
            cursor = page.get("next").isNull() ? "" : page.get("next").asText();
        } while (!cursor.isEmpty());
        assertThat(seen).hasSize(7).isSortedAccordingTo(java.util.Comparator.reverseOrder());
        JsonNode months = body(call(ALICE, "GET", "/api/timeline/months")).get("months");
        assertThat(months.get(0).get("month").asText()).isEqualTo("2024-03");
        assertThat(months.get(0).get("count").asInt()).isEqualTo(2);

        assertThat(body(json(ALICE, "PATCH", "/api/photos/" + ids[1], "{\"favourite\":true,\"tags\":[\"beach\",\"Gran\"]}"))
                .get("tags").toString()).isEqualTo("[\"Gran\",\"beach\"]");
        json(ALICE, "PATCH", "/api/photos/" + ids[2], "{\"tags\":[\"beach\"]}");
        assertThat(body(call(ALICE, "GET", "/api/search?tag=beach")).get("photos")).hasSize(2);
        assertThat(body(call(ALICE, "GET", "/api/search?favourite=true")).get("photos")).hasSize(1);
        assertThat(body(call(ALICE, "GET", "/api/search?camera=Fujifilm%20X-T4")).get("photos")).hasSize(3);
        assertThat(body(call(ALICE, "GET", "/api/search?from=2024-02-01&to=2024-02-29")).get("photos")).hasSize(2);
        assertThat(body(call(ALICE, "GET", "/api/tags")).get("tags").get(0).get("tag").asText()).isEqualTo("beach");
        assertThat(body(call(ALICE, "GET", "/api/cameras")).get("cameras")).hasSize(2);

        JsonNode album = body(json(ALICE, "POST", "/api/albums", "{\"name\":\"Summer\"}"));
        long albumId = album.get("id").asLong();
        json(ALICE, "POST", "/api/albums/" + albumId + "/photos", "{\"photos\":[" + ids[0] + "," + ids[3] + "," + ids[5] + "]}");
        assertThat(json(BOB, "POST", "/api/albums/" + albumId + "/photos", "{\"photos\":[" + ids[1] + "]}").status()).isEqualTo(404);
        JsonNode albumPage = body(call(ALICE, "GET", "/api/albums/" + albumId));
        assertThat(albumPage.get("photos")).hasSize(3);
        assertThat(albumPage.get("album").get("count").asInt()).isEqualTo(3);
        assertThat(body(json(ALICE, "PATCH", "/api/albums/" + albumId, "{\"name\":\"Summer 2024\",\"cover\":" + ids[3] + "}"))
                .get("cover").asLong()).isEqualTo(ids[3]);
        assertThat(json(ALICE, "PATCH", "/api/albums/" + albumId, "{\"cover\":" + ids[1] + "}").status()).isEqualTo(422);
        assertThat(body(call(ALICE, "GET", "/api/search?album=" + albumId + "&camera=Nikon%20Z%206")).get("photos")).as(body(call(ALICE, "GET", "/api/albums/" + albumId)).toString()).hasSize(1);

        // Trash: gone from the timeline and the album, back on restore.
        call(ALICE, "DELETE", "/api/photos/" + ids[3]);
        assertThat(body(call(ALICE, "GET", "/api/albums/" + albumId)).get("photos")).hasSize(2);
        assertThat(body(call(ALICE, "GET", "/api/trash")).get("photos")).hasSize(1);
        call(ALICE, "POST", "/api/photos/" + ids[3] + "/restore");
        assertThat(body(call(ALICE, "GET", "/api/albums/" + albumId)).get("photos")).hasSize(3);
        call(ALICE, "DELETE", "/api/albums/" + albumId + "/photos/" + ids[3]);
        assertThat(body(call(ALICE, "GET", "/api/albums/" + albumId)).get("album").get("cover").asLong()).isNotEqualTo(ids[3]);

        // A share-link visitor (no login) sees the album and its photos, nothing else, and changes nothing.
        Map<String, String> visitor = caller("alice", null, "intrustd+perm://photos/view?album=" + albumId);
        JsonNode shared = body(call(visitor, "GET", "/api/shared"));
        assertThat(shared.get("albums").get(0).get("name").asText()).isEqualTo("Summer 2024");
        assertThat(body(call(visitor, "GET", "/api/albums/" + albumId)).get("photos")).hasSize(2);
        assertThat(call(visitor, "GET", "/api/photos/" + ids[0] + "/original").status()).isEqualTo(200);
        assertThat(call(visitor, "GET", "/api/photos/" + ids[1] + "/original").status()).isEqualTo(404);
        assertThat(call(visitor, "GET", "/api/timeline").status()).isEqualTo(401);
        assertThat(json(visitor, "PATCH", "/api/photos/" + ids[0], "{\"favourite\":true}").status()).isEqualTo(401);
        assertThat(call(visitor, "DELETE", "/api/albums/" + albumId).status()).isEqualTo(401);
        UnixHttp.Response zip = call(visitor, "GET", "/api/albums/" + albumId + "/zip");
        assertThat(zip.status()).isEqualTo(200);
        try (java.util.zip.ZipInputStream z = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(zip.body()))) {
            java.util.List<String> names = new java.util.ArrayList<>();
            for (var e = z.getNextEntry(); e != null; e = z.getNextEntry()) {
                names.add(e.getName());
            }
            assertThat(names).containsExactlyInAnyOrder("p0.jpg", "p5.jpg");
        }
        Map<String, String> photoVisitor = caller(null, null, "intrustd+perm://photos/view?photo=" + ids[6]);
        assertThat(body(call(photoVisitor, "GET", "/api/shared")).get("photos")).as(call(photoVisitor, "GET", "/api/shared").text()).hasSize(1);
        assertThat(body(call(photoVisitor, "GET", "/api/shared")).get("photos").get(0).get("id").asLong()).isEqualTo(ids[6]);
        assertThat(call(photoVisitor, "GET", "/api/photos/" + ids[6] + "/thumb").status()).isIn(200, 202);
        assertThat(call(photoVisitor, "GET", "/api/photos/" + ids[5] + "/thumb").status()).isEqualTo(404);
        assertThat(call(photoVisitor, "GET", "/api/albums/" + albumId).status()).isEqualTo(404);
    }

    @Test
    void originalsAnswerRangeRequests() throws Exception {
        byte[] jpeg = TestImages.jpeg(300, 300, 9);
        long id = upload(ALICE, "r.jpg", jpeg, 201).get("photo").get("id").asLong();
        UnixHttp.Response part = call(ALICE, "GET", "/api/photos/" + id + "/original", new byte[0], Map.of("Range", "bytes=10-19"));
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.headers().get("Content-Range")).isEqualTo("bytes 10-19/" + jpeg.length);
        assertThat(part.body()).isEqualTo(java.util.Arrays.copyOfRange(jpeg, 10, 20));
        UnixHttp.Response tail = call(ALICE, "GET", "/api/photos/" + id + "/original", new byte[0], Map.of("Range", "bytes=-5"));
        assertThat(tail.body()).isEqualTo(java.util.Arrays.copyOfRange(jpeg, jpeg.length - 5, jpeg.length));
        UnixHttp.Response beyond = call(ALICE, "GET", "/api/photos/" + id + "/original", new byte[0],
                Map.of("Range", "bytes=" + jpeg.length + "-"));
        assertThat(beyond.status()).isEqualTo(416);
        assertThat(beyond.headers().get("Content-Range")).isEqualTo("bytes */" + jpeg.length);
        UnixHttp.Response again = call(ALICE, "GET", "/api/photos/" + id + "/original", new byte[0],
                Map.of("If-None-Match", "\"" + sha256(jpeg) + "\""));
        assertThat(again.status()).isEqualTo(304);
    }

    @Test
    void aVideoGetsAPosterAndABrowserPlayableRendition() throws Exception {
        Path clip = TestImages.video(dir, "mpeg4");
        byte[] bytes = Files.readAllBytes(clip);
        JsonNode photo = upload(ALICE, "clip.mp4", bytes, 201).get("photo");
        assertThat(photo.get("kind").asText()).isEqualTo("video");
        assertThat(photo.get("durationMs").asLong()).isBetween(1500L, 2500L);
        assertThat(photo.get("width").asInt()).isEqualTo(320);
        long id = photo.get("id").asLong();
        assertThat(app.awaitPreviews(120, TimeUnit.SECONDS)).isTrue();
        assertThat(body(call(ALICE, "GET", "/api/photos/" + id)).get("preview").asText()).isEqualTo("ready");
        BufferedImage poster = TestImages.read(call(ALICE, "GET", "/api/photos/" + id + "/thumb?size=s").body());
        assertThat(poster.getWidth()).isEqualTo(320);
        UnixHttp.Response head = call(ALICE, "GET", "/api/photos/" + id + "/video", new byte[0], Map.of("Range", "bytes=0-11"));
        assertThat(head.status()).isEqualTo(206);
        assertThat(new String(head.body(), 4, 4, StandardCharsets.ISO_8859_1)).isEqualTo("ftyp");
        Path play = dir.resolve("data/derived").resolve(photo.get("sha256").asText() + "-play.mp4");
        Process probe = new ProcessBuilder("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name",
                "-of", "csv=p=0", play.toString()).start();
        assertThat(new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip()).isEqualTo("h264");
        assertThat(call(ALICE, "GET", "/api/photos/" + upload(ALICE, "still.jpg", TestImages.jpeg(8, 8, 77), 201)
                .get("photo").get("id").asLong() + "/video").status()).isEqualTo(404);
    }

    @Test
    void aCorruptImageIsKeptButQuarantinedWithAPlaceholder() throws Exception {
        byte[] broken = TestImages.undecodable(TestImages.jpeg(200, 200, 11));
        UnixHttp.Response r = call(ALICE, "POST", "/api/photos?name=broken.jpg", broken, Map.of());
        assertThat(r.status()).as(r.text()).isEqualTo(201);
        long id = body(r).get("photo").get("id").asLong();
        assertThat(app.awaitPreviews(60, TimeUnit.SECONDS)).isTrue();
        assertThat(body(call(ALICE, "GET", "/api/photos/" + id)).get("preview").asText()).isEqualTo("failed");
        UnixHttp.Response thumb = call(ALICE, "GET", "/api/photos/" + id + "/thumb");
        assertThat(thumb.status()).isEqualTo(200);
        assertThat(thumb.headers().get("Content-Type")).startsWith("image/svg+xml");
        assertThat(thumb.text()).contains("Preview failed");
        // Quarantined, not lost: the original is still there, byte for byte.
        assertThat(call(ALICE, "GET", "/api/photos/" + id + "/original").body()).isEqualTo(broken);
    }
}
