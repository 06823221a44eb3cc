package org.intrustd.backup;

import com.github.luben.zstd.Zstd;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An open repository: its master key, chunker and index, and the operations on stored
 * objects that every command shares (docs/spec/backup-repository.md). Thread-safe.
 */
public final class Repository implements AutoCloseable {
    static final byte[] CONFIG_AD = "intrustd-backup config v1".getBytes(StandardCharsets.US_ASCII);
    static final byte[] SNAPSHOT_AD = "intrustd-backup snapshot v1".getBytes(StandardCharsets.US_ASCII);
    static final byte NO_COMPRESSION = 0;
    static final byte ZSTD = 1;

    /** The repository's settings, sealed in {@code config}. */
    public record Config(int version, String id, int chunkMin, int chunkAvg, int chunkMax, int packSize, int zstdLevel) {
        public static Config defaults(String id) {
            Chunker.Params p = Chunker.Params.DEFAULT;
            return new Config(1, id, p.min(), p.avg(), p.max(), 16 << 20, 3);
        }

        void check() {
            if (version != 1) {
                throw new BackupException("this repository is format version " + version + "; this program reads version 1");
            }
            new Chunker.Params(chunkMin, chunkAvg, chunkMax);
            if (packSize < 1 << 20 || packSize > 128 << 20 || zstdLevel < -7 || zstdLevel > 19) {
                throw new BackupException.Corrupt("config: pack size or compression level out of range");
            }
        }
    }

    /** A key file, as {@code key list} shows it. */
    public record KeyInfo(String name, String created, String host, String user, boolean current) {
    }

    private final Backend backend;
    private final Crypto.MasterKey master;
    private final Crypto crypto;
    private final Config config;
    private final Chunker chunker;
    private final String keyName;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private volatile Index index;
    private volatile Duration lockWait = Duration.ZERO;

    private Repository(Backend backend, Crypto.MasterKey master, Config config, String keyName, Clock clock) {
        this.backend = backend;
        this.master = master;
        this.crypto = new Crypto(master);
        this.config = config;
        this.chunker = new Chunker(new Chunker.Params(config.chunkMin(), config.chunkAvg(), config.chunkMax()),
                Chunker.gearTable(master.chunkerSeed()));
        this.keyName = keyName;
        this.clock = clock;
    }

    /** Makes a new repository in an empty local folder (or a fresh backend) with one key for {@code password}. */
    public static Repository init(Backend backend, String password, KeyFile.Kdf kdf, Config config, Clock clock) throws IOException {
        config.check();
        backend.create();
        if (backend.exists(Backend.Kind.CONFIG, "config")) {
            throw new BackupException("there is a repository at " + backend.location() + " already");
        }
        // Keys left by an init that was cut short seal another master key: they go.
        for (String stale : backend.list(Backend.Kind.KEY)) {
            backend.delete(Backend.Kind.KEY, stale);
        }
        SecureRandom random = new SecureRandom();
        Crypto.MasterKey master = Crypto.MasterKey.random(random);
        byte[] key = KeyFile.create(master, password, kdf, clock.instant().toString(), host(), user(), random);
        String keyName = sha256(key);
        backend.put(Backend.Kind.KEY, keyName, key);
        Crypto crypto = new Crypto(master);
        backend.put(Backend.Kind.CONFIG, "config", crypto.seal(KeyFile.JSON.writeValueAsBytes(config), CONFIG_AD));
        return new Repository(backend, master, config, keyName, clock);
    }

    /** Opens a repository with any of its passwords. */
    public static Repository open(Backend backend, String password, Clock clock) throws IOException {
        if (!backend.exists(Backend.Kind.CONFIG, "config")) {
            throw new BackupException("there is no repository at " + backend.location() + " (run init first)");
        }
        BackupException.Corrupt refused = null;
        int tried = 0;
        for (var key : backend.getAll(Backend.Kind.KEY).entrySet()) {
            String name = key.getKey();
            Optional<Crypto.MasterKey> master;
            try {
                master = KeyFile.open(key.getValue(), name, password);
            } catch (BackupException.Corrupt e) {
                refused = e; // a damaged or too costly key file must not hide a good one
                continue;
            }
            tried++;
            if (master.isPresent()) {
                byte[] sealed = backend.get(Backend.Kind.CONFIG, "config");
                Config config = KeyFile.JSON.readValue(new Crypto(master.get()).open(sealed, CONFIG_AD, "the config"), Config.class);
                config.check();
                return new Repository(backend, master.get(), config, name, clock);
            }
        }
        if (tried == 0 && refused != null) {
            throw refused;
        }
        throw new BackupException.WrongPassword();
    }

    public Backend backend() {
        return backend;
    }

    public Config config() {
        return config;
    }

    Crypto crypto() {
        return crypto;
    }

    Chunker chunker() {
        return chunker;
    }

    Clock clock() {
        return clock;
    }

    // ---- keys ----------------------------------------------------------------------------

    public List<KeyInfo> keys() throws IOException {
        List<KeyInfo> out = new ArrayList<>();
        for (var key : backend.getAll(Backend.Kind.KEY).entrySet()) {
            KeyFile.Stored s = KeyFile.read(key.getValue(), key.getKey());
            out.add(new KeyInfo(key.getKey(), s.created(), s.host(), s.user(), key.getKey().equals(keyName)));
        }
        out.sort(Comparator.comparing(KeyInfo::created, Comparator.nullsFirst(Comparator.naturalOrder())));
        return out;
    }

    /** Adds a key file for another password; returns its name. */
    public String addKey(String password, KeyFile.Kdf kdf) throws IOException {
        byte[] key = KeyFile.create(master, password, kdf, clock.instant().toString(), host(), user(), random);
        String name = sha256(key);
        backend.put(Backend.Kind.KEY, name, key);
        return name;
    }

    /** Removes a key file (a unique prefix of its name will do); never the last one, nor the one in use. */
    public String removeKey(String prefix) throws IOException {
        String name = unique(backend.list(Backend.Kind.KEY), prefix, "key");
        if (name.equals(keyName)) {
            throw new BackupException("key " + name.substring(0, 8) + " is the one in use: open the repository with another"
                    + " password to remove it");
        }
        backend.delete(Backend.Kind.KEY, name);
        return name;
    }

    /** Replaces the key in use by one for {@code password}. */
    public String changePassword(String password, KeyFile.Kdf kdf) throws IOException {
        String added = addKey(password, kdf);
        backend.delete(Backend.Kind.KEY, keyName);
        return added;
    }

    static String unique(List<String> names, String prefix, String what) {
        List<String> match = names.stream().filter(n -> n.startsWith(prefix.toLowerCase(java.util.Locale.ROOT))).toList();
        if (prefix.isEmpty() || match.isEmpty()) {
            throw new BackupException("no " + what + " " + prefix + " in this repository");
        }
        if (match.size() > 1) {
            throw new BackupException(what + " " + prefix + " is ambiguous: " + match.size() + " match");
        }
        return match.getFirst();
    }

    // ---- index ---------------------------------------------------------------------------

    /** The index of every blob, read from the index files once (leaving out those a prune has superseded). */
    Index index() throws IOException {
        Index i = index;
        if (i == null) {
            synchronized (this) {
                if (index == null) {
                    Map<String, Index.File> files = new LinkedHashMap<>();
                    Set<String> superseded = new HashSet<>();
                    for (var stored : backend.getAll(Backend.Kind.INDEX).entrySet()) {
                        Index.File f = indexFile(stored.getKey(), stored.getValue());
                        files.put(stored.getKey(), f);
                        superseded.addAll(f.supersedes());
                    }
                    Index loaded = new Index();
                    files.forEach((name, f) -> {
                        if (!superseded.contains(name)) {
                            f.packs().forEach(loaded::add);
                        }
                    });
                    index = loaded;
                }
                i = index;
            }
        }
        return i;
    }

    /** Reads the index files again at the next use (after a prune rewrote them). */
    synchronized void forgetIndex() {
        index = null;
    }

    /** How long {@link Lock#take} waits for a conflicting lock to go (0: not at all). */
    public Repository lockWait(Duration wait) {
        lockWait = wait;
        return this;
    }

    Lock lock(boolean exclusive, String operation) throws IOException {
        return Lock.take(this, exclusive, operation, lockWait);
    }

    Index.File indexFile(String name, byte[] sealed) {
        return Index.decode(crypto.open(sealed, Index.AD, "index " + name), name);
    }

    String saveIndex(Index.File file) throws IOException {
        byte[] sealed = crypto.seal(Index.encode(file), Index.AD);
        String name = sha256(sealed);
        backend.put(Backend.Kind.INDEX, name, sealed);
        return name;
    }

    // ---- blobs ---------------------------------------------------------------------------

    /**
     * Seals a blob's plaintext for a pack: compressed with zstd when that saves at least 1/32.
     * A large chunk whose first 64 KiB do not compress at zstd's fastest level (photos, video,
     * archives: half of a typical home folder) is not tried whole: that cost a third of a first
     * backup's CPU for nothing.
     */
    byte[] sealBlob(byte type, BlobId id, byte[] plain) {
        if (plain.length <= SAMPLE || compresses(plain)) {
            int bound = (int) Zstd.compressBound(plain.length);
            byte[] compressed = new byte[1 + bound];
            long n = Zstd.compressByteArray(compressed, 1, bound, plain, 0, plain.length, config.zstdLevel());
            if (!Zstd.isError(n) && n < plain.length - (plain.length >> 5)) {
                compressed[0] = ZSTD;
                return crypto.seal(compressed, 0, 1 + (int) n, Pack.associated(type, id));
            }
        }
        byte[] payload = new byte[1 + plain.length];
        payload[0] = NO_COMPRESSION;
        System.arraycopy(plain, 0, payload, 1, plain.length);
        return crypto.seal(payload, Pack.associated(type, id));
    }

    private static final int SAMPLE = 64 << 10;

    private static boolean compresses(byte[] plain) {
        byte[] out = new byte[(int) Zstd.compressBound(SAMPLE)];
        long n = Zstd.compressByteArray(out, 0, out.length, plain, 0, SAMPLE, 1);
        return !Zstd.isError(n) && n < SAMPLE - (SAMPLE >> 5);
    }

    /** Opens a sealed blob and checks that its plaintext has the id it is stored under ({@code sealed} is left as it was). */
    byte[] openBlob(byte[] sealed, int off, Pack.Entry e, String pack) {
        ByteBuffer plain = openBlob(ByteBuffer.wrap(sealed), off, e, pack, null);
        if (plain.hasArray() && plain.arrayOffset() == 0 && plain.array().length == plain.remaining()) {
            return plain.array();
        }
        byte[] out = new byte[plain.remaining()];
        plain.get(out);
        return out;
    }

    /**
     * Opens the sealed blob at {@code off} in {@code part} and checks that its plaintext has the
     * id it is stored under; returns a view of the plaintext. A direct buffer is decrypted where
     * it is and decompressed into {@code scratch} (then the plaintext never passes through the
     * heap, and is valid until {@code scratch} is used again); a heap buffer is left as it was.
     */
    ByteBuffer openBlob(ByteBuffer part, int off, Pack.Entry e, String pack, DirectBuffer scratch) {
        String what = "blob " + e.id().hex().substring(0, 16) + " in pack " + pack.substring(0, 16);
        ByteBuffer payload = crypto.open(part, off, e.length(), Pack.associated(e.type(), e.id()), what);
        int raw = e.rawLength();
        byte compression = payload.hasRemaining() ? payload.get(0) : -1;
        ByteBuffer plain;
        if (compression == NO_COMPRESSION && payload.remaining() - 1 == raw) {
            plain = payload.slice(1, raw);
        } else if (compression == ZSTD) {
            long n;
            if (payload.isDirect()) {
                plain = scratch.atLeast(raw).slice(0, raw);
                n = Zstd.decompressDirectByteBuffer(plain, 0, raw, payload, 1, payload.remaining() - 1);
            } else {
                plain = ByteBuffer.wrap(new byte[raw]);
                n = Zstd.decompressByteArray(plain.array(), 0, raw, payload.array(), payload.arrayOffset() + 1, payload.remaining() - 1);
            }
            if (Zstd.isError(n) || n != raw) {
                throw new BackupException.Corrupt(what + " does not decompress to its length");
            }
        } else {
            throw new BackupException.Corrupt(what + " has an unknown compression or the wrong length");
        }
        if (!crypto.id(plain, 0, raw).equals(e.id())) {
            throw new BackupException.Corrupt(what + " does not match its id");
        }
        return plain;
    }

    /** A blob's plaintext, read from its pack and verified. */
    public byte[] blob(BlobId id) throws IOException {
        Index.Location at = index().find(id)
                .orElseThrow(() -> new BackupException.Corrupt("blob " + id.hex().substring(0, 16) + " is in no index"));
        byte[] sealed = backend.read(Backend.Kind.PACK, at.pack(), at.entry().offset(), at.entry().length());
        if (sealed.length != at.entry().length()) {
            throw new BackupException.Corrupt("pack " + at.pack().substring(0, 16) + " is shorter than its index says");
        }
        return openBlob(sealed, 0, at.entry(), at.pack());
    }

    public Tree tree(BlobId id) throws IOException {
        byte[] json = blob(id);
        try {
            return Tree.decode(json);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new BackupException.Corrupt("tree " + id.hex().substring(0, 16) + " is not a valid tree: " + e.getOriginalMessage());
        } catch (BackupException.Corrupt e) {
            throw new BackupException.Corrupt("tree " + id.hex().substring(0, 16) + " is not a valid tree: " + e.getMessage());
        }
    }

    // ---- snapshots -----------------------------------------------------------------------

    /** Every snapshot, oldest first. */
    public List<Snapshot> snapshots() throws IOException {
        List<Snapshot> out = new ArrayList<>();
        for (var stored : backend.getAll(Backend.Kind.SNAPSHOT).entrySet()) {
            out.add(snapshot(stored.getKey(), stored.getValue()));
        }
        // By the instant, not the text: Instant.toString() leaves out a zero fraction, so "…00Z" sorts after "…00.5Z".
        out.sort(Comparator.comparing((Snapshot s) -> java.time.Instant.parse(s.time())).thenComparing(Snapshot::id));
        return out;
    }

    Snapshot snapshot(String name, byte[] sealed) {
        byte[] plain = crypto.open(sealed, SNAPSHOT_AD, "snapshot " + name.substring(0, 8));
        try {
            return KeyFile.JSON.readValue(plain, Snapshot.class).withId(name);
        } catch (IOException e) {
            throw new BackupException.Corrupt("snapshot " + name.substring(0, 8) + " is not valid: " + e.getMessage());
        }
    }

    /** A snapshot by a unique prefix of its id, or {@code latest}. */
    public Snapshot findSnapshot(String ref) throws IOException {
        if (ref.equals("latest")) {
            List<Snapshot> all = snapshots();
            if (all.isEmpty()) {
                throw new BackupException("this repository has no snapshot yet");
            }
            return all.getLast();
        }
        String name = unique(backend.list(Backend.Kind.SNAPSHOT), ref, "snapshot");
        return snapshot(name, backend.get(Backend.Kind.SNAPSHOT, name));
    }

    String saveSnapshot(Snapshot s) throws IOException {
        byte[] sealed = crypto.seal(KeyFile.JSON.writeValueAsBytes(s), SNAPSHOT_AD);
        String name = sha256(sealed);
        backend.put(Backend.Kind.SNAPSHOT, name, sealed);
        return name;
    }

    static String sha256(byte[] data) {
        return HexFormat.of().formatHex(Crypto.sha256(data));
    }

    static String sha256(ByteBuffer data) {
        return HexFormat.of().formatHex(Crypto.sha256(data));
    }

    /** This machine's name, from the kernel (no name lookup on the network). */
    static String host() {
        try {
            return java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException e) {
            return "localhost";
        }
    }

    static String user() {
        return System.getProperty("user.name", "");
    }

    @Override
    public void close() throws IOException {
        backend.close();
    }
}
