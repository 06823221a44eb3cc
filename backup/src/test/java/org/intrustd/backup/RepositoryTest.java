package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.nio.file.Files;
import org.junit.jupiter.api.Test;

/** Backups into a real local repository and back out, byte for byte, with metadata. */
class RepositoryTest extends BackupFixture {
    @Test
    void aRestoreGivesBackEveryByteModeTimeAndLink() throws Exception {
        fill();
        try (Repository repo = init()) {
            Backup.Result r = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress());
            assertThat(r.warnings()).isEmpty();
            Snapshot s = r.snapshot();
            assertThat(s.summary().files()).isEqualTo(5);
            // The copy is stored once; the near-duplicate shares all but the chunk with the changed byte.
            assertThat(s.summary().bytesAdded()).isLessThan((3 << 20) + (1 << 20));
            assertThat(repo.snapshots()).extracting(Snapshot::id).containsExactly(s.id());

            Path out = dir.resolve("out");
            Restore.Result restored = Restore.run(repo, s, Optional.empty(), out, 2, new Restore.Progress());
            assertThat(restored.errors()).isEmpty();
            assertThat(describe(out.resolve("home"))).isEqualTo(describe(source));

            Check.Result check = Check.run(repo, true);
            assertThat(check.errors()).isEmpty();
            assertThat(check.packsRead()).isGreaterThan(1);
        }
    }

    @Test
    void extendedAttributesComeBackAndAChangedOneIsSeen() throws Exception {
        Path file = Files.writeString(source.resolve("a.txt"), "with attributes");
        Path readOnly = Files.writeString(source.resolve("ro.txt"), "read-only, with an attribute");
        Path folder = Files.createDirectories(source.resolve("tagged"));
        Path plain = Files.writeString(source.resolve("plain.txt"), "none");
        setXattr(file, "origin", "https://example.org/a".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        setXattr(file, "bytes", new byte[] {0, (byte) 255, 10});
        setXattr(readOnly, "sum", new byte[] {1, 2, 3});
        setXattr(folder, "colour", "blue".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Files.setPosixFilePermissions(readOnly, java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
        try (Repository repo = init()) {
            Snapshot first = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            Path out = dir.resolve("out");
            assertThat(Restore.run(repo, first, Optional.empty(), out, 2, new Restore.Progress()).errors()).isEmpty();
            Path home = out.resolve("home");
            assertThat(xattrs(home.resolve("a.txt"))).isEqualTo(xattrs(file)).containsOnlyKeys("origin", "bytes");
            assertThat(xattrs(home.resolve("ro.txt"))).isEqualTo(xattrs(readOnly)).containsOnlyKeys("sum");
            assertThat(xattrs(home.resolve("tagged"))).isEqualTo(xattrs(folder)).containsOnlyKeys("colour");
            assertThat(xattrs(home.resolve("plain.txt"))).isEmpty();
            assertThat(describe(home)).isEqualTo(describe(source));

            // An attribute set since (the file's ctime moves) is in the next snapshot; unchanged files keep theirs.
            setXattr(plain, "new", new byte[] {7});
            Snapshot second = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            assertThat(second.summary().filesUnchanged()).isEqualTo(2);
            Path again = dir.resolve("again");
            assertThat(Restore.run(repo, second, Optional.empty(), again, 2, new Restore.Progress()).errors()).isEmpty();
            assertThat(xattrs(again.resolve("home/plain.txt"))).containsOnlyKeys("new");
            assertThat(xattrs(again.resolve("home/a.txt"))).isEqualTo(xattrs(file));
        }
    }

    /** Files are created with their mode where the umask allows it, chmod-ed where not; a file already in the target is kept. */
    @Test
    void everyModeComesBackAndAnExistingFileIsLeftAlone() throws Exception {
        String[] modes = {"rw-rw-rw-", "r--r--r--", "rwx------", "rw-r-----", "rwxr-xr-x", "-w-------", "---------"};
        for (String m : modes) {
            Path f = Files.writeString(source.resolve("mode-" + m.replace('-', '_')), m);
            Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString(m));
        }
        Files.writeString(source.resolve("mine.txt"), "from the snapshot");
        Files.writeString(source.resolve("empty"), "");
        try (Repository repo = init()) {
            Snapshot s = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            Path out = dir.resolve("out");
            Files.createDirectories(out.resolve("home"));
            Files.writeString(out.resolve("home/mine.txt"), "already here");
            Restore.Result r = Restore.run(repo, s, Optional.empty(), out, 2, new Restore.Progress());
            assertThat(r.errors()).containsExactly(out.resolve("home/mine.txt") + ": exists already, left as it is");
            assertThat(Files.readString(out.resolve("home/mine.txt"))).isEqualTo("already here");
            for (String m : modes) {
                Path f = out.resolve("home/mode-" + m.replace('-', '_'));
                assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).as(m).isEqualTo(m);
                assertThat(Files.readString(f)).isEqualTo(m);
            }
            assertThat(out.resolve("home/empty")).isEmptyFile();
        }
    }

    /** A tree naming an attribute no file system keeps is refused at restore, for that entry; so is a value that is not base64url. */
    @Test
    void anAttributeOfNoKnownNamespaceIsRefused() throws Exception {
        Path f = dir.resolve("f");
        Files.writeString(f, "x");
        for (String name : List.of("system.sockprotoname", "bogus", "user.", "os2.x", "user.a\0b")) {
            assertThatThrownBy(() -> Xattrs.write(f, Map.of(name, "AA"))).as(name).isInstanceOf(BackupException.Corrupt.class);
        }
        assertThatThrownBy(() -> Xattrs.write(f, Map.of("user.x", "not base64!"))).isInstanceOf(BackupException.Corrupt.class);
        assertThat(xattrs(f)).isEmpty();
    }

    /** POSIX ACLs (the kernel's binary form in system.posix_acl_*), on a file and as a folder's default, come back as they were. */
    @Test
    void aclsComeBack() throws Exception {
        Path folder = Files.createDirectories(source.resolve("shared"));
        Path inside = Files.writeString(folder.resolve("inside.txt"), "made before the default ACL: inherits none");
        Path file = Files.writeString(source.resolve("acl.txt"), "readable by user 1234 too");
        String access = acl(6, 1234, 4, 4, 0);
        Xattrs.write(file, Map.of("system.posix_acl_access", access));
        Xattrs.write(folder, Map.of("system.posix_acl_default", acl(7, 1234, 5, 5, 5)));
        Map<String, String> fileAttrs = Xattrs.read(file);
        assertThat(fileAttrs).as("this file system keeps ACLs").containsEntry("system.posix_acl_access", access);
        try (Repository repo = init()) {
            Snapshot s = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            Path out = dir.resolve("out");
            assertThat(Restore.run(repo, s, Optional.empty(), out, 2, new Restore.Progress()).errors()).isEmpty();
            assertThat(Xattrs.read(out.resolve("home/acl.txt"))).isEqualTo(fileAttrs);
            assertThat(Xattrs.read(out.resolve("home/shared"))).isEqualTo(Xattrs.read(folder)).containsKey("system.posix_acl_default");
            assertThat(Xattrs.read(out.resolve("home/shared/inside.txt"))).as("restored before its folder's default ACL")
                    .isEqualTo(Xattrs.read(inside));
            assertThat(describe(out.resolve("home"))).isEqualTo(describe(source));
        }
    }

    /** An access ACL in the kernel's xattr form: owner, one named user, group, mask and others, with these permissions. */
    private static String acl(int owner, int uid, int group, int mask, int other) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + 5 * 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(2);
        int[][] entries = {{0x01, owner, -1}, {0x02, 4, uid}, {0x04, group, -1}, {0x10, mask, -1}, {0x20, other, -1}};
        for (int[] e : entries) {
            b.putShort((short) e[0]).putShort((short) e[1]).putInt(e[2]);
        }
        return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    private static void setXattr(Path p, String name, byte[] value) throws java.io.IOException {
        Files.getFileAttributeView(p, java.nio.file.attribute.UserDefinedFileAttributeView.class).write(name,
                java.nio.ByteBuffer.wrap(value));
    }

    private static Map<String, String> xattrs(Path p) throws java.io.IOException {
        var view = Files.getFileAttributeView(p, java.nio.file.attribute.UserDefinedFileAttributeView.class);
        Map<String, String> out = new java.util.TreeMap<>();
        for (String name : view.list()) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(view.size(name));
            view.read(name, b);
            out.put(name, java.util.HexFormat.of().formatHex(b.array(), 0, b.position()));
        }
        return out;
    }

    @Test
    void snapshotsAreInTheOrderOfTheirTimesNotOfTheirText() throws Exception {
        fill();
        // Instant.toString() of a whole second has no fraction: "…:00Z" is before "…:00.500Z" in time, after it as text.
        java.util.concurrent.atomic.AtomicReference<java.time.Instant> now = new java.util.concurrent.atomic.AtomicReference<>(
                java.time.Instant.parse("2026-12-01T10:00:00Z"));
        java.time.Clock clock = new java.time.Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return java.time.ZoneOffset.UTC;
            }

            @Override
            public java.time.Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public java.time.Instant instant() {
                return now.get();
            }
        };
        try (Repository repo = Repository.init(new LocalBackend(repoDir), "secret", FAST, SMALL, clock)) {
            String first = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot().id();
            now.set(java.time.Instant.parse("2026-12-01T10:00:00.500Z"));
            String second = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot().id();
            assertThat(repo.snapshots()).extracting(Snapshot::id).containsExactly(first, second);
        }
    }

    @Test
    void hardLinksComeBackAsHardLinks() throws Exception {
        Files.createDirectories(source.resolve("a"));
        Files.createDirectories(source.resolve("b"));
        Files.write(source.resolve("a/one"), random(5, 300_000));
        Files.createLink(source.resolve("b/also-one"), source.resolve("a/one"));
        Files.copy(source.resolve("a/one"), source.resolve("b/copy")); // same bytes, another file
        try (Repository repo = init()) {
            Snapshot s = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            Path out = dir.resolve("out");
            Restore.Result r = Restore.run(repo, s, Optional.empty(), out, 2, new Restore.Progress());
            assertThat(r.errors()).isEmpty();
            assertThat(r.files()).isEqualTo(3);
            Path home = out.resolve("home");
            assertThat(Files.isSameFile(home.resolve("a/one"), home.resolve("b/also-one"))).isTrue();
            assertThat(Files.isSameFile(home.resolve("a/one"), home.resolve("b/copy"))).isFalse();
            assertThat(Files.getAttribute(home.resolve("a/one"), "unix:nlink")).isEqualTo(2);
            assertThat(home.resolve("b/also-one")).hasSameBinaryContentAs(source.resolve("a/one"));
            assertThat(describe(home)).isEqualTo(describe(source));
        }
    }

    @Test
    void aSubPathRestoresAlone() throws Exception {
        fill();
        try (Repository repo = init()) {
            Snapshot s = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            Path out = dir.resolve("out");
            assertThat(Restore.run(repo, s, Optional.of("home/docs/deep"), out, 1, new Restore.Progress()).errors()).isEmpty();
            assertThat(describe(out.resolve("deep"))).isEqualTo(describe(source.resolve("docs/deep")));
            assertThat(Restore.run(repo, s, Optional.of("home/notes.txt"), out, 1, new Restore.Progress()).errors()).isEmpty();
            assertThat(out.resolve("notes.txt")).hasSameBinaryContentAs(source.resolve("notes.txt"));
            assertThatThrownBy(() -> Restore.run(repo, s, Optional.of("home/nope"), out, 1, new Restore.Progress()))
                    .hasMessageContaining("home/nope is not in snapshot");
        }
    }

    @Test
    void aSecondBackupReadsOnlyWhatChangedAndStoresOnlyNewChunks() throws Exception {
        fill();
        try (Repository repo = init()) {
            Snapshot first = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            byte[] changed = Files.readAllBytes(source.resolve("random.bin"));
            changed[100] ^= 0x55;
            Files.write(source.resolve("random.bin"), changed);
            Files.writeString(source.resolve("docs/new.txt"), "new");
            Snapshot second = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            assertThat(second.parent()).isEqualTo(first.id());
            assertThat(second.summary().filesUnchanged()).isEqualTo(4);
            assertThat(second.summary().filesChanged()).isEqualTo(1);
            assertThat(second.summary().filesNew()).isEqualTo(1);
            // One changed chunk (at most 256 KiB) and a few trees.
            assertThat(second.summary().bytesAdded()).isLessThan(300 << 10);
            Path out = dir.resolve("out");
            assertThat(Restore.run(repo, second, Optional.empty(), out, 2, new Restore.Progress()).errors()).isEmpty();
            assertThat(describe(out.resolve("home"))).isEqualTo(describe(source));
            assertThat(Check.run(repo, true).errors()).isEmpty();
        }
    }

    @Test
    void excludesAndMarkersLeaveThingsOut() throws Exception {
        fill();
        Files.createDirectories(source.resolve("cache"));
        Files.writeString(source.resolve("cache/big"), "x");
        Files.writeString(source.resolve("cache/.nobackup"), "");
        Files.writeString(source.resolve("docs/skip.tmp"), "x");
        try (Repository repo = init()) {
            Snapshot s = Backup.run(repo, Backup.Options.of(List.of(source)).withExcludes(List.of("*.tmp")), new Backup.Progress())
                    .snapshot();
            Path out = dir.resolve("out");
            Restore.run(repo, s, Optional.empty(), out, 2, new Restore.Progress());
            assertThat(out.resolve("home/docs/skip.tmp")).doesNotExist();
            assertThat(out.resolve("home/cache")).isEmptyDirectory();
            assertThat(out.resolve("home/docs/copy.bin")).exists();
        }
    }

    @Test
    void theWrongPasswordIsToldAndKeysComeAndGo() throws Exception {
        try (Repository repo = init()) {
            assertThat(repo.keys()).hasSize(1);
            String second = repo.addKey("other", FAST);
            assertThat(repo.keys()).hasSize(2);
            assertThatThrownBy(() -> repo.removeKey(repo.keys().stream().filter(Repository.KeyInfo::current).findFirst()
                    .orElseThrow().name())).hasMessageContaining("in use");
            assertThat(Repository.open(new LocalBackend(repoDir), "other", Clock.systemUTC()).config().id()).isEqualTo("test");
            repo.removeKey(second.substring(0, 10));
        }
        assertThatThrownBy(() -> Repository.open(new LocalBackend(repoDir), "other", Clock.systemUTC()))
                .isInstanceOf(BackupException.WrongPassword.class).hasMessageContaining("wrong password");
        try (Repository repo = Repository.open(new LocalBackend(repoDir), "secret", Clock.systemUTC())) {
            repo.changePassword("new one", FAST);
        }
        assertThatThrownBy(() -> Repository.open(new LocalBackend(repoDir), "secret", Clock.systemUTC()))
                .isInstanceOf(BackupException.WrongPassword.class);
        assertThat(Repository.open(new LocalBackend(repoDir), "new one", Clock.systemUTC()).keys()).hasSize(1);
        // A damaged key file beside it does not keep the good one from opening; alone, it is reported as damaged.
        Path bad = repoDir.resolve("keys").resolve("0".repeat(64));
        Files.writeString(bad, "{not json");
        assertThat(Repository.open(new LocalBackend(repoDir), "new one", Clock.systemUTC()).config().id()).isEqualTo("test");
        assertThatThrownBy(() -> Repository.open(new LocalBackend(dir.resolve("nothing")), "x", Clock.systemUTC()))
                .hasMessageContaining("no repository");
        assertThatThrownBy(() -> Repository.init(new LocalBackend(repoDir), "x", FAST, SMALL, Clock.systemUTC()))
                .hasMessageContaining("not empty");
    }

    @Test
    void anInitCutShortIsDoneAgainAndItsLeftoverKeyGoes() throws Exception {
        // A key stored, then the end: no config.
        Repository first = init();
        first.close();
        Files.delete(repoDir.resolve("config"));
        try (Repository again = Repository.init(new LocalBackend(repoDir), "other", FAST, SMALL, Clock.systemUTC())) {
            assertThat(again.keys()).hasSize(1);
        }
        assertThat(Repository.open(new LocalBackend(repoDir), "other", Clock.systemUTC()).config().id()).isEqualTo("test");
        assertThatThrownBy(() -> Repository.open(new LocalBackend(repoDir), "secret", Clock.systemUTC()))
                .isInstanceOf(BackupException.WrongPassword.class);
    }

    @Test
    void aFlippedByteIsFoundByCheckAndEverythingElseStillRestores() throws Exception {
        fill();
        try (Repository repo = init()) {
            Snapshot s = Backup.run(repo, Backup.Options.of(List.of(source)), new Backup.Progress()).snapshot();
            // Damage the chunk of random.bin at 1 MiB: find its pack and offset through the index.
            Tree home = repo.tree(BlobId.parse(repo.tree(BlobId.parse(s.tree())).nodes().getFirst().subtree()));
            Tree.Node random = home.nodes().stream().filter(n -> n.name().equals("random.bin")).findFirst().orElseThrow();
            BlobId victim = BlobId.parse(random.content().get(random.content().size() / 2));
            Index.Location at = repo.index().find(victim).orElseThrow();
            Path pack = repoDir.resolve("data").resolve(at.pack().substring(0, 2)).resolve(at.pack());
            try (RandomAccessFile f = new RandomAccessFile(pack.toFile(), "rw")) {
                long pos = at.entry().offset() + at.entry().length() / 2;
                f.seek(pos);
                int b = f.read();
                f.seek(pos);
                f.write(b ^ 0x01);
            }
            Check.Result quick = Check.run(repo, false);
            assertThat(quick.errors()).isEmpty(); // structure alone cannot see it
            Check.Result full = Check.run(repo, true);
            assertThat(full.errors()).anyMatch(e -> e.contains("do not match its name"))
                    .anyMatch(e -> e.contains(victim.hex().substring(0, 16)) && e.contains("authentication"));

            Path out = dir.resolve("out");
            Restore.Result r = Restore.run(repo, s, Optional.empty(), out, 2, new Restore.Progress());
            // random.bin fails, and any file sharing the damaged chunk (copy.bin is the same bytes); nothing else.
            assertThat(r.errors()).isNotEmpty().allMatch(e -> e.contains(victim.hex().substring(0, 16)))
                    .anyMatch(e -> e.contains("/home/random.bin:")).anyMatch(e -> e.contains("/home/docs/copy.bin:"));
            // A file that could not be restored whole is not left half written under its name.
            assertThat(out.resolve("home/random.bin")).doesNotExist();
            Map<String, String> want = describe(source);
            Map<String, String> got = describe(out.resolve("home"));
            for (String e : r.errors()) {
                String rel = out.resolve("home").relativize(Path.of(e.substring(0, e.indexOf(':')))).toString();
                want.remove(rel);
                got.remove(rel);
            }
            assertThat(got).isEqualTo(want).containsKey("notes.txt").containsKey("docs/link");
        }
    }
}
