package org.intrustd.backups;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.intrustd.backup.LocalBackend;
import org.intrustd.appkit.Problem;

/**
 * Where repositories live: one space per client — a persona of this appliance, or a paired
 * appliance — under {@code spaces/}, each holding that client's repositories. A space has a
 * quota: personas have none by default (the disk is theirs), a paired appliance has none
 * until this appliance's owner agrees to one, so a friend never fills the disk unasked.
 * Usage is counted once from the files at start, then kept up to date as files come and go.
 * Thread-safe.
 */
final class Spaces {
    static final Pattern REPO_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final Pattern PEER_ID = Pattern.compile("[A-Z2-7-]{8,80}");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A client: {@code persona:<name>} or {@code peer:<appliance ID>}. */
    record Client(String kind, String name) {
        String key() {
            return kind + ":" + name;
        }

        /** The space's folder name: personas' names hex-encoded (any characters), peers' IDs as they are (checked). */
        String folder() {
            return kind.equals("persona") ? "p-" + HexFormat.of().formatHex(name.getBytes(StandardCharsets.UTF_8)) : "f-" + name;
        }

        static Optional<Client> parse(String key) {
            int colon = key.indexOf(':');
            if (colon < 0) {
                return Optional.empty();
            }
            String kind = key.substring(0, colon);
            String name = key.substring(colon + 1);
            if (kind.equals("persona") && !name.isEmpty() && name.length() <= 200) {
                return Optional.of(new Client(kind, name));
            }
            if (kind.equals("peer") && PEER_ID.matcher(name).matches()) {
                return Optional.of(new Client(kind, name));
            }
            return Optional.empty();
        }
    }

    /** Usage against quota ({@code quota} empty: none). */
    record Usage(long used, Optional<Long> quota) {
    }

    /**
     * {@code verifiers}: each peer's SHA-256 of its claim (hex), by client key; {@code spent}: the
     * verifiers of claims made, with who made them, never accepted again from anyone else.
     */
    record Recovery(Map<String, String> verifiers, Map<String, String> spent) {
        Recovery {
            verifiers = new TreeMap<>(verifiers == null ? Map.of() : verifiers);
            spent = new TreeMap<>(spent == null ? Map.of() : spent);
        }
    }

    private final Path root;
    private final Path quotaFile;
    private final Map<String, Long> quotas;
    private final Path recoveryFile;
    /** Peers' recovery verifiers, and those spent: see {@link #claim}. Guarded by {@code quotas}. */
    private final Recovery recovery;
    private final Map<String, long[]> used = new ConcurrentHashMap<>();

    Spaces(Path data) throws IOException {
        this.root = Files.createDirectories(data.resolve("spaces"));
        this.quotaFile = data.resolve("quotas.json");
        this.quotas = Files.exists(quotaFile) ? new TreeMap<>(JSON.readValue(quotaFile.toFile(), new TypeReference<Map<String, Long>>() {
        })) : new TreeMap<>();
        this.recoveryFile = data.resolve("recovery.json");
        this.recovery = Files.exists(recoveryFile) ? JSON.readValue(recoveryFile.toFile(), Recovery.class)
                : new Recovery(Map.of(), Map.of());
    }

    Path dir(Client c) {
        return root.resolve(c.folder());
    }

    /** The repository {@code name} of {@code client}, if it exists. */
    Optional<LocalBackend> repo(Client c, String name) {
        if (!REPO_NAME.matcher(name).matches()) {
            return Optional.empty();
        }
        Path dir = dir(c).resolve(name);
        return Files.isDirectory(dir) ? Optional.of(new LocalBackend(dir)) : Optional.empty();
    }

    /** Makes an empty repository; false if one by that name exists. */
    boolean create(Client c, String name) throws IOException {
        Path dir = dir(c).resolve(name);
        if (Files.exists(dir)) {
            return false;
        }
        new LocalBackend(dir).create();
        return true;
    }

    /** Deletes a whole repository and gives its room back. */
    void deleteRepo(Client c, String name) throws IOException {
        Path dir = dir(c).resolve(name);
        // Moved aside first, so a crash half way never leaves a half repository under its name.
        Path gone = dir(c).resolve(".deleting-" + name + "-" + System.nanoTime());
        Files.move(dir, gone, StandardCopyOption.ATOMIC_MOVE);
        try (Stream<Path> all = Files.walk(gone)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
        recount(c);
    }

    List<String> repos(Client c) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir(c))) {
            s.map(p -> p.getFileName().toString()).filter(n -> REPO_NAME.matcher(n).matches()).sorted().forEach(out::add);
        } catch (NoSuchFileException e) {
            // no repository yet
        }
        return out;
    }

    /** Every client with a space or a quota. */
    List<Client> clients() throws IOException {
        java.util.Set<String> keys = new java.util.TreeSet<>(quotas.keySet());
        try (Stream<Path> s = Files.list(root)) {
            for (Path p : s.toList()) {
                String f = p.getFileName().toString();
                if (f.startsWith("p-")) {
                    keys.add("persona:" + new String(HexFormat.of().parseHex(f.substring(2)), StandardCharsets.UTF_8));
                } else if (f.startsWith("f-")) {
                    keys.add("peer:" + f.substring(2));
                }
            }
        }
        return keys.stream().map(Client::parse).flatMap(Optional::stream).toList();
    }

    Usage usage(Client c) throws IOException {
        return new Usage(counter(c)[0], quota(c));
    }

    Optional<Long> quota(Client c) {
        synchronized (quotas) {
            Long q = quotas.get(c.key());
            if (q != null) {
                return Optional.of(q);
            }
        }
        return c.kind().equals("peer") ? Optional.of(0L) : Optional.empty();
    }

    /** Sets a client's quota (empty: none), kept in {@code quotas.json}. */
    void setQuota(Client c, Optional<Long> bytes) throws IOException {
        synchronized (quotas) {
            if (bytes.isPresent()) {
                quotas.put(c.key(), bytes.get());
            } else {
                quotas.remove(c.key());
            }
            save(quotaFile, quotas);
        }
    }

    private static void save(Path file, Object value) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        JSON.writeValue(temp.toFile(), value);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Keeps a paired appliance's recovery verifier: the SHA-256 of the claim that may later take
     * its space over. A spent one is refused: its claim has served once, and whoever else knows
     * the key it came from (a stolen box) must not be able to use it again.
     */
    void setVerifier(Client c, byte[] verifier) throws IOException {
        String hex = HexFormat.of().formatHex(verifier);
        synchronized (quotas) {
            if (recovery.spent().containsKey(hex)) {
                throw new Problem(409, "this key has served to recover an appliance already: change it");
            }
            recovery.verifiers().put(c.key(), hex);
            save(recoveryFile, recovery);
        }
    }

    /** What {@link #claim} did: the repositories moved (none when it had been done before). */
    record Claimed(List<String> repos) {
    }

    /**
     * A new appliance ({@code to}) takes over the space of a lost one ({@code from}) with the
     * claim whose SHA-256 {@code from} left here (docs/spec/offsite.md): its repositories move
     * over with its quota (added to any {@code to} had), and {@code from} keeps nothing here.
     * The claim is then spent: it takes nothing over again, so a stolen box that knows the same
     * key cannot take the space back; {@code to} leaves a verifier of a new key of its own.
     * The same claim by the same {@code to} again finishes a claim cut off half way, or does nothing.
     *
     * @throws Problem 403 when the claim is not the one {@code from} left (or it left
     *     none: the two are not told apart, so a peer cannot probe who keeps backups here), or
     *     is spent; 409 when both hold a repository by the same name
     */
    Claimed claim(Client from, Client to, byte[] claim) throws IOException {
        String hex;
        try {
            hex = HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(claim));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        synchronized (quotas) {
            String spentBy = recovery.spent().get(hex);
            boolean left = !from.equals(to) && matches(recovery.verifiers().get(from.key()), hex);
            if (spentBy == null ? !left : !spentBy.equals(to.key())) {
                throw new Problem(403, "this recovery key is not one appliance " + from.name() + " left here");
            }
            List<String> moving = left ? repos(from) : List.of();
            List<String> clash = moving.stream().filter(repos(to)::contains).toList();
            if (!clash.isEmpty()) {
                throw new Problem(409, "this appliance keeps a repository named " + String.join(", ", clash)
                        + " here already: delete it first (it is not the lost appliance's)");
            }
            if (spentBy == null) {
                // Spent, and the room given over, before anything moves: a claim cut off half way finishes when made again.
                recovery.spent().put(hex, to.key());
                save(recoveryFile, recovery);
                Long room = quotas.get(from.key());
                if (room != null) {
                    quotas.merge(to.key(), room, Long::sum);
                    save(quotaFile, quotas);
                }
            }
            if (!left) {
                return new Claimed(List.of());
            }
            Files.createDirectories(dir(to));
            for (String name : moving) {
                Files.move(dir(from).resolve(name), dir(to).resolve(name), StandardCopyOption.ATOMIC_MOVE);
            }
            try {
                Files.deleteIfExists(dir(from));
            } catch (java.nio.file.DirectoryNotEmptyException e) {
                // something of a deletion cut short: left to the owner
            }
            quotas.remove(from.key());
            save(quotaFile, quotas);
            recovery.verifiers().remove(from.key());
            save(recoveryFile, recovery);
            recount(from);
            recount(to);
            return new Claimed(moving);
        }
    }

    private static boolean matches(String stored, String hex) {
        return stored != null && java.security.MessageDigest.isEqual(stored.getBytes(StandardCharsets.US_ASCII),
                hex.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Reserves {@code bytes} more for {@code c}, replacing a file of {@code replaced} bytes;
     * false when that would pass its quota.
     */
    boolean reserve(Client c, long bytes, long replaced) throws IOException {
        long[] n = counter(c);
        Optional<Long> q = quota(c);
        synchronized (n) {
            long after = n[0] + bytes - replaced;
            if (q.isPresent() && bytes > replaced && after > q.get()) {
                return false;
            }
            n[0] = after;
            return true;
        }
    }

    /** Gives back room (a file deleted, or a reserved write that failed). */
    void release(Client c, long bytes) throws IOException {
        long[] n = counter(c);
        synchronized (n) {
            n[0] = Math.max(0, n[0] - bytes);
        }
    }

    private long[] counter(Client c) throws IOException {
        long[] n = used.get(c.key());
        if (n == null) {
            n = new long[] {count(dir(c))};
            long[] raced = used.putIfAbsent(c.key(), n);
            if (raced != null) {
                n = raced;
            }
        }
        return n;
    }

    private void recount(Client c) throws IOException {
        used.put(c.key(), new long[] {count(dir(c))});
    }

    private static long count(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }
}
