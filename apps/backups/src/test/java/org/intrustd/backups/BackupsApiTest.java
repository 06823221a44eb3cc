package org.intrustd.backups;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.eclipse.jetty.server.Server;
import org.intrustd.backup.Backup;
import org.intrustd.backup.BackupException;
import org.intrustd.backup.Check;
import org.intrustd.backup.Forget;
import org.intrustd.backup.HttpBackend;
import org.intrustd.backup.KeyFile;
import org.intrustd.backup.Prune;
import org.intrustd.backup.Repository;
import org.intrustd.backup.Restore;
import org.intrustd.backup.Snapshot;
import org.intrustd.core.app.UnixHttp;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The backups app over its real Unix socket, driven by the real engine through {@link HttpBackend}. */
class BackupsApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final KeyFile.Kdf FAST = new KeyFile.Kdf(1024, 1, 1);
    static final String FRIEND = "F2EGSN4-ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ23-4567ABC-DEFGHIJ-KLMNOPQ-RSTUVWX";
    static final Map<String, String> ALICE = Map.of("X-Intrustd-Appliance", "TEST", "X-Intrustd-Persona", "alice",
            "X-Intrustd-Role", "owner");
    static final Map<String, String> BOB = Map.of("X-Intrustd-Appliance", "TEST", "X-Intrustd-Persona", "bob",
            "X-Intrustd-Role", "member");
    static final Map<String, String> PEER = Map.of("X-Intrustd-Appliance", "TEST", "X-Intrustd-Peer", FRIEND);
    static final Map<String, String> NOBODY = Map.of("X-Intrustd-Appliance", "TEST");

    Path dir;
    Path socket;
    Server server;

    @BeforeEach
    void start() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "bka");
        socket = dir.resolve("s");
        server = BackupsApp.start(socket, Files.createDirectories(dir.resolve("data")));
    }

    @AfterEach
    void stop() throws Exception {
        server.stop();
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** The engine's transport: each exchange on the app's socket, with the caller's trusted headers. */
    HttpBackend.Transport as(Map<String, String> who) {
        return (method, target, headers, body) -> {
            Map<String, String> h = new LinkedHashMap<>(who);
            h.putAll(headers);
            UnixHttp.Response r = UnixHttp.exchange(socket, method, "backups", target, h, body);
            Map<String, String> lower = new TreeMap<>();
            r.headers().forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
            return new HttpBackend.Response(r.status(), lower, r.body());
        };
    }

    HttpBackend backend(Map<String, String> who, String repo) {
        return new HttpBackend(as(who), "/api/repos/" + repo, "test appliance, repository " + repo);
    }

    UnixHttp.Response call(Map<String, String> who, String method, String target, String body) throws IOException {
        Map<String, String> h = new LinkedHashMap<>(who);
        if (!body.isEmpty()) {
            h.put("Content-Type", "application/json");
        }
        return UnixHttp.exchange(socket, method, "backups", target, h, body.getBytes(StandardCharsets.UTF_8));
    }

    Path source() throws IOException {
        Path src = Files.createDirectories(dir.resolve("src/home"));
        byte[] r = new byte[3 << 20];
        new Random(3).nextBytes(r);
        Files.write(src.resolve("r.bin"), r);
        Files.writeString(src.resolve("t.txt"), "text\n".repeat(50_000));
        return src;
    }

    static final Repository.Config SMALL = new Repository.Config(1, "api", 16 << 10, 64 << 10, 256 << 10, 1 << 20, 3);

    @Test
    void aPersonaBacksUpRestoresChecksForgetsAndPrunesThroughTheApp() throws Exception {
        Path src = source();
        Snapshot first;
        try (Repository repo = Repository.init(backend(ALICE, "laptop"), "pw", FAST, SMALL, Clock.systemUTC())) {
            first = Backup.run(repo, Backup.Options.of(List.of(src)), new Backup.Progress()).snapshot();
            Files.writeString(src.resolve("new.txt"), "new");
            Snapshot second = Backup.run(repo, Backup.Options.of(List.of(src)), new Backup.Progress()).snapshot();
            assertThat(second.summary().filesUnchanged()).isEqualTo(2);
            Restore.Result r = Restore.run(repo, second, Optional.empty(), dir.resolve("out"), 2, new Restore.Progress());
            assertThat(r.errors()).isEmpty();
            assertThat(dir.resolve("out/home/r.bin")).hasSameBinaryContentAs(src.resolve("r.bin"));
            assertThat(Check.run(repo, true).errors()).isEmpty();
            Forget.run(repo, new Forget.Policy(1, 0, 0, 0, 0, 0, Set.of()), ZoneOffset.UTC);
            Prune.run(repo);
            assertThat(Check.run(repo, true).errors()).isEmpty();
            assertThat(repo.snapshots()).extracting(Snapshot::id).containsExactly(second.id());
        }
        JsonNode list = JSON.readTree(call(ALICE, "GET", "/api/repos", "").body());
        assertThat(list.get("repos").get(0).get("name").asText()).isEqualTo("laptop");
        assertThat(list.get("repos").get(0).get("snapshots").asInt()).isEqualTo(1);
        assertThat(list.get("repos").get(0).has("lastSnapshotAt")).isTrue();
        assertThat(list.get("used").asLong()).isGreaterThan(3 << 20);
        assertThat(list.get("quota").isNull()).isTrue();
        // Small files come in one exchange (the engine reads snapshots and indexes that way); packs do not.
        JsonNode all = JSON.readTree(call(ALICE, "GET", "/api/repos/laptop/files/snapshots/?contents=1", "").body());
        assertThat(all.get("files").size()).isEqualTo(1);
        assertThat(call(ALICE, "GET", "/api/repos/laptop/files/data/?contents=1", "").status()).isEqualTo(400);
        // Another persona sees none of it.
        assertThat(JSON.readTree(call(BOB, "GET", "/api/repos", "").body()).get("repos")).isEmpty();
        assertThat(call(BOB, "GET", "/api/repos/laptop/files/snapshots/", "").status()).isEqualTo(404);
        assertThatThrownBy(() -> Repository.open(backend(BOB, "laptop"), "pw", Clock.systemUTC())).hasMessageContaining("no repository");
        assertThat(first.id()).isNotEmpty();
    }

    @Test
    void aFriendHasNoRoomUntilTheOwnerGivesSomeAndCannotPassIt() throws Exception {
        Path src = source();
        assertThatThrownBy(() -> Repository.init(backend(PEER, "theirs"), "pw", FAST, SMALL, Clock.systemUTC()))
                .isInstanceOf(BackupException.class).hasMessageContaining("no room").hasMessageContaining("owner of this appliance");
        assertThat(call(BOB, "PUT", "/api/clients/peer:" + FRIEND + "/quota", "{\"bytes\": 1000000}").status()).isEqualTo(403);
        UnixHttp.Response set = call(ALICE, "PUT", "/api/clients/peer:" + FRIEND + "/quota", "{\"bytes\": 2000000}");
        assertThat(set.status()).as(set.text()).isEqualTo(200);
        call(PEER, "DELETE", "/api/repos/theirs", "");
        try (Repository repo = Repository.init(backend(PEER, "theirs"), "pw", FAST, SMALL, Clock.systemUTC())) {
            // 3 MiB of random bytes do not fit in 2 MB.
            assertThatThrownBy(() -> Backup.run(repo, Backup.Options.of(List.of(src)), new Backup.Progress()))
                    .hasMessageContaining("no room");
        }
        JsonNode clients = JSON.readTree(call(ALICE, "GET", "/api/clients", "").body()).get("clients");
        JsonNode friend = null;
        for (JsonNode c : clients) {
            if (c.get("client").asText().equals("peer:" + FRIEND)) {
                friend = c;
            }
        }
        assertThat(friend).isNotNull();
        assertThat(friend.get("quota").asLong()).isEqualTo(2_000_000);
        assertThat(friend.get("used").asLong()).isBetween(1L, 2_000_000L);
        // More room: the same backup now goes through, and the repository checks.
        call(ALICE, "PUT", "/api/clients/peer:" + FRIEND + "/quota", "{\"bytes\": 50000000}");
        try (Repository repo = Repository.open(backend(PEER, "theirs"), "pw", Clock.systemUTC())) {
            Backup.run(repo, Backup.Options.of(List.of(src)), new Backup.Progress());
            assertThat(Check.run(repo, true).errors()).isEmpty();
        }
    }

    static final String NEW_BOX = "NEWBOXA-ABCDEFG-HIJKLMN-OPQRSTU-VWXYZ23-4567ABC-DEFGHIJ-KLMNOPQ-RSTUVWX";
    static final Map<String, String> NEW_PEER = Map.of("X-Intrustd-Appliance", "TEST", "X-Intrustd-Peer", NEW_BOX);

    @Test
    void aNewApplianceTakesALostOnesBackupsOverWithItsClaimAndNothingElse() throws Exception {
        Path src = source();
        call(ALICE, "PUT", "/api/clients/peer:" + FRIEND + "/quota", "{\"bytes\": 50000000}");
        try (Repository repo = Repository.init(backend(PEER, "apps"), "pw", FAST, SMALL, Clock.systemUTC())) {
            Backup.run(repo, Backup.Options.of(List.of(src)), new Backup.Progress());
        }
        byte[] claim = new byte[32];
        new Random(5).nextBytes(claim);
        String hexClaim = java.util.HexFormat.of().formatHex(claim);
        String verifier = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(claim));
        assertThat(call(PEER, "PUT", "/api/recovery", "{\"verifier\": \"" + verifier + "\"}").status()).isEqualTo(204);
        assertThat(call(ALICE, "PUT", "/api/recovery", "{\"verifier\": \"" + verifier + "\"}").status()).as("a person logs in").isEqualTo(403);
        assertThat(call(PEER, "PUT", "/api/recovery", "{\"verifier\": \"ABC\"}").status()).isEqualTo(400);

        String wrong = java.util.HexFormat.of().formatHex(new byte[32]);
        UnixHttp.Response refused = call(NEW_PEER, "POST", "/api/recovery/claim", "{\"from\": \"" + FRIEND + "\", \"claim\": \"" + wrong + "\"}");
        assertThat(refused.status()).as(refused.text()).isEqualTo(403);
        UnixHttp.Response nobody = call(NEW_PEER, "POST", "/api/recovery/claim", "{\"from\": \"NOSUCHB-OX\", \"claim\": \"" + hexClaim + "\"}");
        assertThat(nobody.status()).as("no verifier reads as a wrong claim").isEqualTo(403);
        assertThat(JSON.readTree(call(PEER, "GET", "/api/repos", "").body()).get("repos")).hasSize(1);

        String right = "{\"from\": \"" + FRIEND + "\", \"claim\": \"" + hexClaim + "\"}";
        UnixHttp.Response taken = call(NEW_PEER, "POST", "/api/recovery/claim", right);
        assertThat(taken.status()).as(taken.text()).isEqualTo(200);
        JsonNode t = JSON.readTree(taken.body());
        assertThat(t.get("moved").toString()).isEqualTo("[\"apps\"]");
        assertThat(t.get("quota").asLong()).as("the room given to the lost box").isEqualTo(50_000_000);
        assertThat(t.get("used").asLong()).isPositive();
        UnixHttp.Response again = call(NEW_PEER, "POST", "/api/recovery/claim", right);
        assertThat(again.status()).as("a recovery run twice").isEqualTo(200);
        assertThat(JSON.readTree(again.body()).get("moved")).isEmpty();

        // The new box reads it all back with the password; the lost one has nothing left here.
        try (Repository repo = Repository.open(backend(NEW_PEER, "apps"), "pw", Clock.systemUTC())) {
            assertThat(Check.run(repo, true).errors()).isEmpty();
            Path target = dir.resolve("back");
            Restore.run(repo, repo.snapshots().getFirst(), Optional.empty(), target, 2, new Restore.Progress());
            assertThat(Files.readString(target.resolve("home/t.txt"))).isEqualTo("text\n".repeat(50_000));
        }
        assertThat(JSON.readTree(call(PEER, "GET", "/api/repos", "").body()).get("repos")).isEmpty();
        assertThat(call(PEER, "POST", "/api/recovery/claim", "{\"from\": \"" + NEW_BOX + "\", \"claim\": \"" + hexClaim + "\"}")
                .status()).as("the claim is spent: the lost (stolen) box cannot take the space back").isEqualTo(403);
        assertThat(call(NEW_PEER, "PUT", "/api/recovery", "{\"verifier\": \"" + verifier + "\"}").status())
                .as("a spent verifier is not taken again: the new box changes its key").isEqualTo(409);
        JsonNode clients = JSON.readTree(call(ALICE, "GET", "/api/clients", "").body()).get("clients");
        assertThat(clients.toString()).doesNotContain(FRIEND).contains(NEW_BOX);

        // A box that keeps a repository of the same name already cannot take another's over (nothing is merged).
        call(ALICE, "PUT", "/api/clients/peer:" + FRIEND + "/quota", "{\"bytes\": 50000000}");
        Repository.init(backend(PEER, "apps"), "pw2", FAST, SMALL, Clock.systemUTC()).close();
        call(PEER, "PUT", "/api/recovery", "{\"verifier\": \"" + java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(new byte[32])) + "\"}");
        UnixHttp.Response clash = call(NEW_PEER, "POST", "/api/recovery/claim", "{\"from\": \"" + FRIEND + "\", \"claim\": \"" + wrong + "\"}");
        assertThat(clash.status()).as(clash.text()).isEqualTo(409);
        assertThat(JSON.readTree(call(PEER, "GET", "/api/repos", "").body()).get("repos")).hasSize(1);
    }

    @Test
    void badRequestsGetAClearStatusAndNothingIsStored() throws Exception {
        assertThat(call(NOBODY, "GET", "/api/repos", "").status()).isEqualTo(401);
        assertThat(call(ALICE, "POST", "/api/repos", "{\"name\": \"../up\"}").status()).isEqualTo(400);
        assertThat(call(ALICE, "POST", "/api/repos", "{\"name\": \".hidden\"}").status()).isEqualTo(400);
        assertThat(call(ALICE, "POST", "/api/repos", "not json").status()).isEqualTo(400);
        assertThat(call(ALICE, "POST", "/api/repos", "{\"name\": \"r\"}").status()).isEqualTo(201);
        assertThat(call(ALICE, "POST", "/api/repos", "{\"name\": \"r\"}").status()).isEqualTo(409);
        String good = sha("hello");
        UnixHttp.Response wrongName = UnixHttp.exchange(socket, "PUT", "backups", "/api/repos/r/files/data/" + sha("other"), ALICE,
                "hello".getBytes(StandardCharsets.UTF_8));
        assertThat(wrongName.status()).isEqualTo(422);
        assertThat(call(ALICE, "GET", "/api/repos/r/files/data/" + sha("other"), "").status()).isEqualTo(404);
        assertThat(UnixHttp.exchange(socket, "PUT", "backups", "/api/repos/r/files/data/" + good, ALICE,
                "hello".getBytes(StandardCharsets.UTF_8)).status()).isEqualTo(201);
        assertThat(call(ALICE, "GET", "/api/repos/r/files/data/" + good, "").text()).isEqualTo("hello");
        UnixHttp.Response part = UnixHttp.exchange(socket, "GET", "backups", "/api/repos/r/files/data/" + good,
                merge(ALICE, Map.of("Range", "bytes=1-3")), new byte[0]);
        assertThat(part.status()).isEqualTo(206);
        assertThat(part.text()).isEqualTo("ell");
        assertThat(UnixHttp.exchange(socket, "GET", "backups", "/api/repos/r/files/data/" + good,
                merge(ALICE, Map.of("Range", "bytes=9-")), new byte[0]).status()).isEqualTo(416);
        assertThat(call(ALICE, "GET", "/api/repos/r/files/secrets/" + good, "").status()).isEqualTo(404);
        assertThat(call(ALICE, "GET", "/api/repos/r/files/data/..%2F..%2Fquotas.json", "").status()).isIn(400, 404);
        assertThat(call(ALICE, "GET", "/api/repos/r/files/data/XYZ", "").status()).isEqualTo(400);
        assertThat(call(ALICE, "PATCH", "/api/repos/r/files/data/" + good, "").status()).isEqualTo(405);
        assertThat(call(ALICE, "PUT", "/api/clients/peer:x/quota", "{\"bytes\": 1}").status()).isEqualTo(400);
        assertThat(call(ALICE, "PUT", "/api/clients/peer:" + FRIEND + "/quota", "{\"bytes\": -1}").status()).isEqualTo(400);
        assertThat(call(ALICE, "DELETE", "/api/repos/r", "").status()).isEqualTo(204);
        assertThat(call(ALICE, "GET", "/api/repos/r/files/data/" + good, "").status()).isEqualTo(404);
        assertThat(JSON.readTree(call(ALICE, "GET", "/api/me", "").body()).get("used").asLong()).isZero();
    }

    @Test
    void randomRequestsNeverCrashTheApp() {
        String[] parts = {"api", "repos", "files", "data", "config", "keys", "index", "snapshots", "locks", "clients", "quota", "me",
                "..", ".", "", "%2e%2e", "r", "recovery", "claim", sha("x"), "persona:alice", "peer:" + FRIEND, "x".repeat(300)};
        String[] methods = {"GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"};
        Property.forAll(300, rnd -> {
            StringBuilder path = new StringBuilder("/api");
            int n = rnd.nextInt(6);
            for (int i = 0; i < n; i++) {
                path.append('/').append(parts[rnd.nextInt(parts.length)]);
            }
            String body = rnd.nextBoolean() ? "" : List.of("{}", "{\"name\":\"r\"}", "{\"bytes\":5}", "[", "{\"name\":7}",
                    "{\"bytes\":\"x\"}", "{\"verifier\":\"" + sha("v") + "\"}", "{\"from\":\"" + FRIEND + "\",\"claim\":\"" + sha("v")
                    + "\"}", "{\"from\":7,\"claim\":[]}").get(rnd.nextInt(9));
            return methods[rnd.nextInt(methods.length)] + " " + path + " " + body;
        }, req -> {
            String[] m = req.split(" ", 3);
            try {
                UnixHttp.Response r = call(List.of(ALICE, BOB, PEER, NOBODY).get(Math.abs(req.hashCode()) % 4), m[0], m[1], m[2]);
                assertThat(r.status()).as(req + " → " + r.text()).isLessThan(500);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    static Map<String, String> merge(Map<String, String> a, Map<String, String> b) {
        Map<String, String> m = new LinkedHashMap<>(a);
        m.putAll(b);
        return m;
    }

    static String sha(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
