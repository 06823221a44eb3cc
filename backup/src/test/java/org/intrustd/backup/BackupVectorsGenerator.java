package org.intrustd.backup;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * Writes docs/spec/vectors/backup-repository.json. Run from the repository root after a
 * format change (and review the diff):
 * <pre>java -cp "backup/target/test-classes:backup/target/classes:$(cat cp.txt)" org.intrustd.backup.BackupVectorsGenerator</pre>
 */
final class BackupVectorsGenerator {
    static final HexFormat HEX = HexFormat.of();
    static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private BackupVectorsGenerator() {
    }

    /** The chunking input: SHA-256 of each block number (u32 big-endian), concatenated. */
    static byte[] stream(int length) throws Exception {
        byte[] out = new byte[length];
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (int i = 0; i * 32 < length; i++) {
            byte[] d = sha.digest(new byte[] {(byte) (i >>> 24), (byte) (i >>> 16), (byte) (i >>> 8), (byte) i});
            System.arraycopy(d, 0, out, i * 32, Math.min(32, length - i * 32));
        }
        return out;
    }

    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("description", "Backup repositories (backup-repository.md). Binary values are hex unless named b64 (base64url, no"
                + " padding). 'repository' is a whole repository (file path → b64 content) that 'password' opens.");
        KeyFile.Kdf kdf = new KeyFile.Kdf(1024, 1, 1);
        byte[] salt = HEX.parseHex("000102030405060708090a0b0c0d0e0f");
        root.putObject("argon2id").put("password", "correct horse battery staple").put("saltHex", HEX.formatHex(salt))
                .put("memoryKiB", kdf.memoryKiB()).put("iterations", kdf.iterations()).put("parallelism", kdf.parallelism())
                .put("keyHex", HEX.formatHex(KeyFile.derive("correct horse battery staple", salt, kdf)));

        byte[] seed = HEX.parseHex("5eed".repeat(16));
        long[] gear = Chunker.gearTable(seed);
        ArrayNode first = json.createArrayNode();
        for (int i = 0; i < 4; i++) {
            first.add(String.format("%016x", gear[i]));
        }
        ObjectNode chunking = root.putObject("chunking");
        chunking.put("chunkerSeedHex", HEX.formatHex(seed)).set("gearFirstFour", first);
        chunking.put("inputLength", 1 << 20).put("input", "SHA-256 of each u32 big-endian block number 0, 1, 2…, concatenated");
        chunking.put("chunkMin", 16 << 10).put("chunkAvg", 64 << 10).put("chunkMax", 256 << 10);
        Chunker c = new Chunker(new Chunker.Params(16 << 10, 64 << 10, 256 << 10), gear);
        byte[] input = stream(1 << 20);
        ArrayNode lengths = chunking.putArray("chunkLengths");
        for (int at = 0; at < input.length; ) {
            int n = c.cut(input, at, input.length, true);
            lengths.add(n);
            at += n;
        }

        byte[] idKey = HEX.parseHex("1d".repeat(32));
        byte[] plain = "a chunk of a file".getBytes(StandardCharsets.UTF_8);
        root.putObject("blobId").put("idKeyHex", HEX.formatHex(idKey)).put("plaintext", "a chunk of a file")
                .put("idHex", new Crypto(new byte[32], idKey, new java.security.SecureRandom()).id(plain).hex());

        // A whole repository: one snapshot of a small folder.
        Path tmp = Files.createTempDirectory("vectors");
        Path src = Files.createDirectories(tmp.resolve("src/docs"));
        Files.writeString(src.resolve("hello.txt"), "hello, backups\n".repeat(100));
        Files.write(src.resolve("data.bin"), stream(40_000));
        Files.createDirectories(src.resolve("sub"));
        Files.writeString(src.resolve("sub/empty"), "");
        Files.createSymbolicLink(src.resolve("link"), Path.of("hello.txt"));
        for (Path p : List.of(src.resolve("hello.txt"), src.resolve("data.bin"), src.resolve("sub/empty"))) {
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.from(Instant.parse("2026-01-02T03:04:05Z")));
        }
        Path repoDir = tmp.resolve("repo");
        Repository.Config config = new Repository.Config(1, "vectors", 16 << 10, 64 << 10, 256 << 10, 1 << 20, 3);
        try (Repository repo = Repository.init(new LocalBackend(repoDir), "correct horse battery staple", kdf, config,
                Clock.fixed(Instant.parse("2026-12-02T12:00:00Z"), ZoneOffset.UTC))) {
            Backup.run(repo, Backup.Options.of(List.of(src)).withHost("vectors"), new Backup.Progress());
        }
        ObjectNode files = root.putObject("repository");
        try (Stream<Path> all = Files.walk(repoDir)) {
            for (Path p : all.filter(Files::isRegularFile).sorted().toList()) {
                files.put(repoDir.relativize(p).toString(), B64.encodeToString(Files.readAllBytes(p)));
            }
        }
        root.put("password", "correct horse battery staple");
        ObjectNode expect = root.putObject("snapshot");
        expect.put("host", "vectors").put("time", "2026-12-02T12:00:00Z").put("rootName", "docs");
        ObjectNode contents = expect.putObject("files");
        contents.put("hello.txt", HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(src.resolve("hello.txt")))));
        contents.put("data.bin", HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(src.resolve("data.bin")))));
        contents.put("sub/empty", HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(new byte[0])));
        expect.put("link", "hello.txt");
        Files.writeString(Path.of("docs/spec/vectors/backup-repository.json"), json.writeValueAsString(root) + "\n");
    }
}
