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

    private final Path root;
    private final Path quotaFile;
    private final Map<String, Long> quotas;
    private final Map<String, long[]> used = new ConcurrentHashMap<>();

    Spaces(Path data) throws IOException {
        this.root = Files.createDirectories(data.resolve("spaces"));
        this.quotaFile = data.resolve("quotas.json");
        this.quotas = Files.exists(quotaFile) ? new TreeMap<>(JSON.readValue(quotaFile.toFile(), new TypeReference<Map<String, Long>>() {
        })) : new TreeMap<>();
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
            Path temp = quotaFile.resolveSibling("quotas.json.tmp");
            JSON.writeValue(temp.toFile(), quotas);
            Files.move(temp, quotaFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
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
