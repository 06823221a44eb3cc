package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The code against docs/spec/vectors/backup-repository.json (see {@link BackupVectorsGenerator}). */
class BackupVectorsTest {
    static final JsonNode V = load();
    static final HexFormat HEX = HexFormat.of();

    @TempDir
    Path dir;

    static JsonNode load() {
        Path file = Path.of(System.getProperty("intrustd.spec.dir", "../docs/spec"), "vectors", "backup-repository.json");
        try {
            return new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read spec vector file " + file, e);
        }
    }

    @Test
    void argon2idDerivesTheListedKey() {
        JsonNode a = V.get("argon2id");
        byte[] key = KeyFile.derive(a.get("password").asText(), HEX.parseHex(a.get("saltHex").asText()),
                new KeyFile.Kdf(a.get("memoryKiB").asInt(), a.get("iterations").asInt(), a.get("parallelism").asInt()));
        assertThat(HEX.formatHex(key)).isEqualTo(a.get("keyHex").asText());
    }

    @Test
    void theGearTableAndTheCutsAreTheListedOnes() throws Exception {
        JsonNode c = V.get("chunking");
        long[] gear = Chunker.gearTable(HEX.parseHex(c.get("chunkerSeedHex").asText()));
        for (int i = 0; i < 4; i++) {
            assertThat(String.format("%016x", gear[i])).isEqualTo(c.get("gearFirstFour").get(i).asText());
        }
        Chunker chunker = new Chunker(new Chunker.Params(c.get("chunkMin").asInt(), c.get("chunkAvg").asInt(),
                c.get("chunkMax").asInt()), gear);
        byte[] input = BackupVectorsGenerator.stream(c.get("inputLength").asInt());
        List<Integer> lengths = new ArrayList<>();
        for (int at = 0; at < input.length; ) {
            int n = chunker.cut(input, at, input.length, true);
            lengths.add(n);
            at += n;
        }
        List<Integer> want = new ArrayList<>();
        c.get("chunkLengths").forEach(n -> want.add(n.asInt()));
        assertThat(lengths).isEqualTo(want);
    }

    @Test
    void aBlobIdIsTheKeyedMac() {
        JsonNode b = V.get("blobId");
        Crypto crypto = new Crypto(new byte[32], HEX.parseHex(b.get("idKeyHex").asText()), new java.security.SecureRandom());
        assertThat(crypto.id(b.get("plaintext").asText().getBytes(StandardCharsets.UTF_8)).hex()).isEqualTo(b.get("idHex").asText());
    }

    @Test
    void theListedRepositoryOpensChecksAndRestoresToTheListedFiles() throws Exception {
        Path repoDir = dir.resolve("repo");
        var files = V.get("repository").fields();
        while (files.hasNext()) {
            var f = files.next();
            Path p = repoDir.resolve(f.getKey());
            Files.createDirectories(p.getParent());
            Files.write(p, Base64.getUrlDecoder().decode(f.getValue().asText()));
        }
        Files.createDirectories(repoDir.resolve("locks"));
        Files.createDirectories(repoDir.resolve("tmp"));
        JsonNode expect = V.get("snapshot");
        try (Repository repo = Repository.open(new LocalBackend(repoDir), V.get("password").asText(), Clock.systemUTC())) {
            assertThat(Check.run(repo, true).errors()).isEmpty();
            Snapshot s = repo.findSnapshot("latest");
            assertThat(s.host()).isEqualTo(expect.get("host").asText());
            assertThat(s.time()).isEqualTo(expect.get("time").asText());
            Path out = dir.resolve("out");
            assertThat(Restore.run(repo, s, Optional.empty(), out, 1, new Restore.Progress()).errors()).isEmpty();
            Path root = out.resolve(expect.get("rootName").asText());
            var want = expect.get("files").fields();
            while (want.hasNext()) {
                var w = want.next();
                byte[] got = Files.readAllBytes(root.resolve(w.getKey()));
                assertThat(HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(got))).as(w.getKey()).isEqualTo(w.getValue().asText());
            }
            assertThat(Files.readSymbolicLink(root.resolve("link")).toString()).isEqualTo(expect.get("link").asText());
        }
    }
}
