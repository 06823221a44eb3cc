package org.intrustd.backup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A source folder and a repository in a fresh temporary folder, and ways to fill and compare them. */
abstract class BackupFixture {
    /** Cheap Argon2id for tests (the default costs half a second per open). */
    static final KeyFile.Kdf FAST = new KeyFile.Kdf(1024, 1, 1);
    /** Small chunks and packs, so a few MiB make many of each. */
    static final Repository.Config SMALL = new Repository.Config(1, "test", 16 << 10, 64 << 10, 256 << 10, 1 << 20, 3);

    Path dir;
    Path source;
    Path repoDir;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "bk");
        source = Files.createDirectories(dir.resolve("src/home"));
        repoDir = dir.resolve("repo");
    }

    @AfterEach
    void tearDown() throws IOException {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    Repository init() throws IOException {
        return Repository.init(new LocalBackend(repoDir), "secret", FAST, SMALL, Clock.systemUTC());
    }

    static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A small home folder: text, random data, duplicates, an empty file, a symlink, odd modes and times. */
    void fill() throws IOException {
        Files.writeString(source.resolve("notes.txt"), "hello backups\n".repeat(20_000));
        Files.write(source.resolve("random.bin"), random(1, 3 << 20));
        Files.createDirectories(source.resolve("docs/deep/er"));
        Files.write(source.resolve("docs/copy.bin"), random(1, 3 << 20));
        Files.write(source.resolve("docs/deep/er/near.bin"), near(random(1, 3 << 20)));
        Files.write(source.resolve("docs/empty"), new byte[0]);
        Files.createSymbolicLink(source.resolve("docs/link"), Path.of("../notes.txt"));
        Files.setPosixFilePermissions(source.resolve("docs/deep"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.setPosixFilePermissions(source.resolve("random.bin"), PosixFilePermissions.fromString("rw-------"));
        Files.setAttribute(source.resolve("notes.txt"), "unix:mode", 02750);
        Files.setLastModifiedTime(source.resolve("docs/copy.bin"), FileTime.fromMillis(1_000_000_000_123L));
    }

    static byte[] near(byte[] b) {
        byte[] c = b.clone();
        c[b.length / 2] ^= 1;
        return c;
    }

    /** Everything about a tree that a restore must reproduce: per relative path, type, mode, mtime and bytes or target. */
    static Map<String, String> describe(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.toList()) {
                String rel = root.relativize(p).toString();
                Map<String, Object> a = Files.readAttributes(p, "unix:mode,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
                String what;
                if (Files.isSymbolicLink(p)) {
                    what = "link " + Files.readSymbolicLink(p);
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    what = "dir";
                } else {
                    what = "file " + Repository.sha256(Files.readAllBytes(p));
                }
                String time = rel.isEmpty() || Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "" : " " + a.get("lastModifiedTime");
                out.put(rel, what + " " + Integer.toOctalString((Integer) a.get("mode")) + time);
            }
        }
        return out;
    }
}
