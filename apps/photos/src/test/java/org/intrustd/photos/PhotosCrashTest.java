package org.intrustd.photos;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.intrustd.core.app.UnixHttp;
import org.junit.jupiter.api.Test;

/**
 * kill -9 of the real app process while uploads and previews are under way, at random
 * moments: every upload that was acknowledged is there after a restart, byte for byte, every
 * stored original is whole (its name is its hash), no temporary file is left, and the
 * previews that were cut short are made after the restart.
 */
class PhotosCrashTest {
    private static final Map<String, String> ALICE = PhotosApiTest.caller("alice", "owner", null);

    @Test
    void killNineAtRandomMomentsLosesNothingAcknowledged() throws Exception {
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "phc");
        Path socket = dir.resolve("s");
        Path data = Files.createDirectories(dir.resolve("data"));
        Random random = new Random(42);
        Map<String, Long> acknowledged = new ConcurrentHashMap<>();
        Map<String, byte[]> files = new HashMap<>();
        int seed = 0;
        try {
            for (int round = 0; round < 5; round++) {
                Process app = launch(socket, data);
                List<Thread> uploaders = new ArrayList<>();
                for (int u = 0; u < 3; u++) {
                    List<byte[]> mine = new ArrayList<>();
                    for (int i = 0; i < 6; i++) {
                        byte[] jpeg = TestImages.jpeg(900, 700, seed++);
                        files.put(PhotosApiTest.sha256(jpeg), jpeg);
                        mine.add(jpeg);
                    }
                    boolean resumable = u == 2;
                    uploaders.add(Thread.ofPlatform().start(() -> {
                        for (byte[] jpeg : mine) {
                            try {
                                JsonNode photo = resumable ? resumable(socket, jpeg) : whole(socket, jpeg);
                                if (photo != null) {
                                    acknowledged.put(photo.get("sha256").asText(), photo.get("id").asLong());
                                }
                            } catch (IOException | RuntimeException e) {
                                return; // the app died under us: the rest of this uploader's files were never sent
                            }
                        }
                    }));
                }
                Thread.sleep(50 + random.nextInt(400));
                app.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                for (Thread t : uploaders) {
                    t.join(10_000);
                }
            }
            Process app = launch(socket, data);
            try {
                JsonNode timeline = PhotosApiTest.JSON.readTree(UnixHttp.exchange(socket, "GET", "photos",
                        "/api/timeline?limit=500", ALICE, new byte[0]).body());
                Map<String, Long> present = new HashMap<>();
                timeline.get("photos").forEach(p -> present.put(p.get("sha256").asText(), p.get("id").asLong()));
                assertThat(acknowledged).isNotEmpty();
                assertThat(present).containsAllEntriesOf(acknowledged);
                for (Map.Entry<String, Long> e : present.entrySet()) {
                    UnixHttp.Response original = UnixHttp.exchange(socket, "GET", "photos",
                            "/api/photos/" + e.getValue() + "/original", ALICE, new byte[0]);
                    assertThat(original.body()).isEqualTo(files.get(e.getKey()));
                }
                try (Stream<Path> stored = Files.walk(data.resolve("originals"))) {
                    for (Path p : stored.filter(Files::isRegularFile).toList()) {
                        assertThat(PhotosApiTest.sha256(Files.readAllBytes(p))).isEqualTo(p.getFileName().toString());
                    }
                }
                // Previews cut short are made after the restart.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                while (true) {
                    JsonNode now = PhotosApiTest.JSON.readTree(UnixHttp.exchange(socket, "GET", "photos",
                            "/api/timeline?limit=500", ALICE, new byte[0]).body());
                    List<String> states = new ArrayList<>();
                    now.get("photos").forEach(p -> states.add(p.get("preview").asText()));
                    if (states.stream().allMatch("ready"::equals)) {
                        break;
                    }
                    assertThat(System.nanoTime()).as("previews still %s", states).isLessThan(deadline);
                    Thread.sleep(200);
                }
                // What was being written when the app died was removed at the restart; the new previews are done.
                try (Stream<Path> tmp = Files.list(data.resolve("tmp"))) {
                    assertThat(tmp).isEmpty();
                }
            } finally {
                app.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } finally {
            try (Stream<Path> all = Files.walk(dir)) {
                all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static JsonNode whole(Path socket, byte[] jpeg) throws IOException {
        UnixHttp.Response r = UnixHttp.exchange(socket, "POST", "photos", "/api/photos?name=x.jpg", ALICE, jpeg);
        return r.status() / 100 == 2 ? PhotosApiTest.JSON.readTree(r.body()).get("photo") : null;
    }

    private static JsonNode resumable(Path socket, byte[] jpeg) throws IOException {
        Map<String, String> json = new HashMap<>(ALICE);
        json.put("Content-Type", "application/json");
        String id = PhotosApiTest.JSON.readTree(UnixHttp.exchange(socket, "POST", "photos", "/api/uploads", json,
                ("{\"name\":\"r.jpg\",\"size\":" + jpeg.length + "}").getBytes(StandardCharsets.UTF_8)).body()).get("id").asText();
        int half = jpeg.length / 2;
        Map<String, String> first = new HashMap<>(ALICE);
        first.put("Upload-Offset", "0");
        UnixHttp.exchange(socket, "PATCH", "photos", "/api/uploads/" + id, first, java.util.Arrays.copyOf(jpeg, half));
        Map<String, String> second = new HashMap<>(ALICE);
        second.put("Upload-Offset", Integer.toString(half));
        UnixHttp.Response r = UnixHttp.exchange(socket, "PATCH", "photos", "/api/uploads/" + id, second,
                java.util.Arrays.copyOfRange(jpeg, half, jpeg.length));
        return r.status() / 100 == 2 ? PhotosApiTest.JSON.readTree(r.body()).get("photo") : null;
    }

    /** The app in its own JVM, as the daemon runs it; returns once it listens. */
    private static Process launch(Path socket, Path data) throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(javaBin, "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"), "org.intrustd.photos.PhotosApp")
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("INTRUSTD_APP_SOCKET", socket.toString());
        pb.environment().put("INTRUSTD_APP_DATA", data.toString());
        Process p = pb.start();
        InputStream out = p.getInputStream();
        StringBuilder line = new StringBuilder();
        int c;
        while ((c = out.read()) >= 0 && c != '\n') {
            line.append((char) c);
        }
        assertThat(line.toString()).startsWith("photos: listening");
        Thread.ofVirtual().start(() -> {
            try {
                out.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // The process died.
            }
        });
        return p;
    }
}
