package org.intrustd.mail;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Each persona's mail: the messages as files in a Maildir++ (one folder per mail folder, flags
 * in the file names, so that standard tools can read it), and an SQLite index over all of them
 * with full-text search. The files are the truth: a message is made whole in {@code tmp/} and
 * renamed into place before the index hears of it, and {@link #open} indexes any file the index
 * missed (the app was killed between the two) and forgets rows whose file is gone.
 */
final class MailStore implements AutoCloseable {
    /** The folders every mailbox has, with their Maildir++ directory names. */
    enum Folder {
        INBOX(""), SENT(".Sent"), DRAFTS(".Drafts"), TRASH(".Trash"), ARCHIVE(".Archive"), REQUESTS(".Requests");

        final String dir;

        Folder(String dir) {
            this.dir = dir;
        }

        String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Optional<Folder> parse(String id) {
            for (Folder f : values()) {
                if (f.id().equals(id)) {
                    return Optional.of(f);
                }
            }
            return Optional.empty();
        }
    }

    /** Maildir flags, by their letters (in the order Maildir writes them). */
    enum Flag {
        DRAFT('D'), FLAGGED('F'), PASSED('P'), REPLIED('R'), SEEN('S');

        final char letter;

        Flag(char letter) {
            this.letter = letter;
        }

        String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Optional<Flag> parse(String id) {
            for (Flag f : values()) {
                if (f.id().equals(id)) {
                    return Optional.of(f);
                }
            }
            return Optional.empty();
        }
    }

    /** A message as the index knows it. */
    record Summary(long id, Folder folder, String threadId, String from, String to, String subject, long date, long received,
            long size, Set<Flag> flags, Optional<String> verifiedSender, String snippet, boolean hasAttachments) {
    }

    private static final Pattern PERSONA = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    /** Words from a message's text kept in the search index. */
    private static final int INDEXED_TEXT = 256 * 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;
    private final Connection db;
    /** The mailboxes known to be whole: checking 18 folders for every message cost more than the index. */
    private final Set<String> made = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** False inside {@link #bulk}: files are not synced one by one. */
    private boolean syncEach = true;

    private MailStore(Path root, Connection db) {
        this.root = root;
        this.db = db;
    }

    /** Opens (or makes) the mailboxes under {@code root}, and brings the index in line with the files. */
    static MailStore open(Path root) throws IOException {
        Files.createDirectories(root.resolve("mailboxes"));
        try {
            Connection db = DriverManager.getConnection("jdbc:sqlite:" + root.resolve("index.db"));
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=NORMAL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS messages(
                          id INTEGER PRIMARY KEY,
                          persona TEXT NOT NULL,
                          folder TEXT NOT NULL,
                          file TEXT NOT NULL UNIQUE,
                          message_id TEXT NOT NULL,
                          thread TEXT NOT NULL,
                          sender TEXT NOT NULL,
                          recipients TEXT NOT NULL,
                          subject TEXT NOT NULL,
                          date INTEGER NOT NULL,
                          received INTEGER NOT NULL,
                          size INTEGER NOT NULL,
                          flags TEXT NOT NULL,
                          verified_sender TEXT,
                          snippet TEXT NOT NULL,
                          attachments INTEGER NOT NULL)""");
                // The proved sender of a message being filed, until its index row holds it: a kill
                // between the rename and the row leaves the message to reconcile() with its proof.
                s.execute("CREATE TABLE IF NOT EXISTS proved(file TEXT PRIMARY KEY, sender TEXT NOT NULL)");
                s.execute("CREATE INDEX IF NOT EXISTS messages_by_folder ON messages(persona, folder, id)");
                s.execute("CREATE INDEX IF NOT EXISTS messages_by_message_id ON messages(persona, message_id)");
                // A message's search row has rowid -id: FTS5 walks a term's matches in rowid order
                // cheaply and backwards only by loading them all, and a search wants the newest first.
                s.execute("CREATE VIRTUAL TABLE IF NOT EXISTS search USING fts5(subject, sender, recipients, body,"
                        + " content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')");
            }
            MailStore store = new MailStore(root, db);
            store.reconcile();
            return store;
        } catch (SQLException e) {
            throw new IOException("cannot open the mail index: " + e.getMessage(), e);
        }
    }

    static boolean validPersona(String persona) {
        return PERSONA.matcher(persona).matches();
    }

    private Path maildir(String persona) {
        if (!validPersona(persona)) {
            throw new IllegalArgumentException("not a persona name: " + persona);
        }
        return root.resolve("mailboxes").resolve(persona);
    }

    private Path folderDir(String persona, Folder folder) {
        Path m = maildir(persona);
        return folder.dir.isEmpty() ? m : m.resolve(folder.dir);
    }

    /** Whether {@code persona} has a mailbox here (made the first time they use Mail). */
    boolean hasMailbox(String persona) {
        return validPersona(persona) && Files.isDirectory(maildir(persona).resolve("cur"));
    }

    /** {@code persona}'s Maildir (Maildir++: the Inbox at its top, each other folder a {@code .Name} below). */
    Path mailboxDir(String persona) throws IOException {
        ensureMailbox(persona);
        return maildir(persona);
    }

    /** The personas that have a mailbox here. */
    List<String> mailboxes() throws IOException {
        List<String> out = new ArrayList<>();
        Path dir = root.resolve("mailboxes");
        if (Files.isDirectory(dir)) {
            try (var all = Files.newDirectoryStream(dir)) {
                for (Path p : all) {
                    String name = p.getFileName().toString();
                    if (hasMailbox(name)) {
                        out.add(name);
                    }
                }
            }
        }
        out.sort(null);
        return out;
    }

    /** Someone {@code persona} has written to or heard from: the name last seen, how often, and when last. */
    record Correspondent(String address, String name, int messages, long last) {
    }

    /** An address in a list as the index keeps it ({@code Name <a@b>, c@d}), with the name before it. */
    private static final Pattern LISTED = Pattern.compile("\\s*([^<>,]*?)\\s*<([^<>\\s,]+@[^<>\\s,]+)>|([^<>\\s,]+@[^<>\\s,]+)");
    /** The most recent messages {@link #correspondents} looks at: a bound on its cost, whatever the mailbox's size. */
    static final int CORRESPONDENTS_SCAN = 5_000;

    /**
     * The people in {@code persona}'s recent mail: the senders of their Inbox and Archive, and the
     * recipients of what they sent (Requests, Trash and Drafts are not theirs to vouch for), by
     * address, lower-cased.
     */
    synchronized Map<String, Correspondent> correspondents(String persona) throws IOException {
        Map<String, Correspondent> out = new java.util.HashMap<>();
        try (PreparedStatement q = db.prepareStatement("SELECT folder, sender, recipients, date FROM messages WHERE persona = ?"
                + " AND folder IN ('inbox', 'archive', 'sent') ORDER BY id DESC LIMIT " + CORRESPONDENTS_SCAN)) {
            q.setString(1, persona);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    String people = r.getString(1).equals("sent") ? r.getString(3) : r.getString(2);
                    long date = r.getLong(4);
                    var m = LISTED.matcher(people);
                    while (m.find()) {
                        String address = (m.group(2) != null ? m.group(2) : m.group(3)).toLowerCase(Locale.ROOT);
                        String name = m.group(1) == null ? "" : m.group(1).replace("\"", "").strip();
                        Correspondent c = out.get(address); // newest first: the name it was last seen with wins
                        out.put(address, c == null ? new Correspondent(address, name, 1, date) : new Correspondent(address,
                                c.name().isEmpty() ? name : c.name(), c.messages() + 1, Math.max(c.last(), date)));
                    }
                }
            }
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
        return out;
    }

    /** Makes {@code persona}'s mailbox and its folders if they are not there yet. */
    void ensureMailbox(String persona) throws IOException {
        if (made.contains(persona)) {
            return;
        }
        for (Folder f : Folder.values()) {
            Path d = folderDir(persona, f);
            for (String sub : new String[] {"tmp", "new", "cur"}) {
                Files.createDirectories(d.resolve(sub));
            }
        }
        made.add(persona);
    }

    /** A fresh file in {@code persona}'s {@code tmp/}, for a message being written. */
    Path tempFile(String persona) throws IOException {
        ensureMailbox(persona);
        return maildir(persona).resolve("tmp").resolve(uniqueName());
    }

    private static String uniqueName() {
        byte[] r = new byte[8];
        RANDOM.nextBytes(r);
        long now = System.currentTimeMillis();
        return (now / 1000) + ".M" + (now % 1000) + "R" + HexFormat.of().formatHex(r) + ".intrustd";
    }

    /**
     * Files the whole message {@code written} (in this persona's {@code tmp/}, or anywhere on the
     * same file system: it is moved) into {@code folder}, synced first, and indexes it.
     */
    synchronized Summary add(String persona, Folder folder, Path written, Set<Flag> flags, Optional<String> verifiedSender)
            throws IOException {
        ensureMailbox(persona);
        if (syncEach) {
            try (FileChannel ch = FileChannel.open(written, StandardOpenOption.WRITE)) {
                ch.force(true); // the message is on disk before its name says it is delivered
            }
        }
        String name = written.getFileName().toString();
        if (!name.endsWith(".intrustd")) {
            name = uniqueName();
        }
        Path target = folderDir(persona, folder).resolve(flags.isEmpty() ? "new" : "cur").resolve(fileName(name, flags));
        if (verifiedSender.isPresent()) {
            prove(persona + "/" + name, verifiedSender);
        }
        Summary s = own(List.of(target.getParent()), () -> {
            move(written, target);
            return index(persona, folder, target, flags, verifiedSender, System.currentTimeMillis());
        });
        if (verifiedSender.isPresent()) {
            prove(persona + "/" + name, Optional.empty());
        }
        return s;
    }

    /** Records (or, given nothing, forgets) the proved sender of the message file {@code key} ({@code persona/base name}). */
    private void prove(String key, Optional<String> sender) throws IOException {
        try (PreparedStatement u = sender.isPresent() ? db.prepareStatement("INSERT OR REPLACE INTO proved VALUES(?, ?)")
                : db.prepareStatement("DELETE FROM proved WHERE file = ?")) {
            u.setString(1, key);
            if (sender.isPresent()) {
                u.setString(2, sender.get());
            }
            u.executeUpdate();
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private Optional<String> proved(String key) throws IOException {
        try (PreparedStatement q = db.prepareStatement("SELECT sender FROM proved WHERE file = ?")) {
            q.setString(1, key);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? Optional.of(r.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to);
        }
    }

    /** The Maildir name with its info part: {@code base:2,FLAGS} (none for a message in {@code new/}). */
    private static String fileName(String base, Set<Flag> flags) {
        return fileName(base, flags, "");
    }

    /**
     * {@link #fileName}, keeping {@code others}: info letters this store does not use (an IMAP
     * server's {@code T} for \Deleted, its keywords {@code a}–{@code z}), all in ASCII order as
     * Maildir wants them.
     */
    private static String fileName(String base, Set<Flag> flags, String others) {
        if (flags.isEmpty() && others.isEmpty()) {
            return base;
        }
        StringBuilder letters = new StringBuilder(others);
        for (Flag f : Flag.values()) {
            if (flags.contains(f)) {
                letters.append(f.letter);
            }
        }
        return base + ":2," + letters.chars().sorted().distinct()
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append);
    }

    /** The info letters of {@code fileName} that are none of this store's flags. */
    private static String otherFlags(String fileName) {
        int info = fileName.indexOf(":2,");
        if (info < 0) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        for (char c : fileName.substring(info + 3).toCharArray()) {
            if (java.util.Arrays.stream(Flag.values()).noneMatch(f -> f.letter == c) && c >= '!' && c <= '~') {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static Set<Flag> flagsOf(String fileName) {
        Set<Flag> out = EnumSet.noneOf(Flag.class);
        int info = fileName.indexOf(":2,");
        if (info >= 0) {
            for (char c : fileName.substring(info + 3).toCharArray()) {
                for (Flag f : Flag.values()) {
                    if (f.letter == c) {
                        out.add(f);
                    }
                }
            }
        }
        return out;
    }

    private static String baseName(String fileName) {
        int info = fileName.indexOf(':');
        return info < 0 ? fileName : fileName.substring(0, info);
    }

    private Summary index(String persona, Folder folder, Path file, Set<Flag> flags, Optional<String> verifiedSender, long received)
            throws IOException {
        MessageView v = MessageView.read(file, false);
        // Ids are kept without their brackets, as MessageView gives them; a message with none gets its file's name.
        String messageId = v.messageId() == null || v.messageId().isBlank() ? baseName(file.getFileName().toString()) : v.messageId();
        String thread = threadOf(persona, v, messageId);
        String from = addresses(v.from());
        String to = addresses(concat(v.to(), v.cc()));
        String text = v.text() == null ? "" : v.text();
        String snippet = text.strip().replaceAll("\\s+", " ");
        snippet = snippet.length() > 160 ? snippet.substring(0, 160) : snippet;
        long date = v.date().map(java.time.Instant::toEpochMilli).orElse(received);
        long size = Files.size(file);
        boolean own = autoCommit(); // the row and its search row together (one WAL commit, not two)
        try (PreparedStatement ins = db.prepareStatement("INSERT INTO messages(persona, folder, file, message_id, thread, sender,"
                + " recipients, subject, date, received, size, flags, verified_sender, snippet, attachments)"
                + " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", Statement.RETURN_GENERATED_KEYS)) {
            ins.setString(1, persona);
            ins.setString(2, folder.id());
            ins.setString(3, root.relativize(file).toString());
            ins.setString(4, messageId);
            ins.setString(5, thread);
            ins.setString(6, from);
            ins.setString(7, to);
            ins.setString(8, v.subject() == null ? "" : v.subject());
            ins.setLong(9, date);
            ins.setLong(10, received);
            ins.setLong(11, size);
            ins.setString(12, flagText(flags));
            ins.setString(13, verifiedSender.orElse(null));
            ins.setString(14, snippet);
            ins.setInt(15, v.attachments().size());
            ins.executeUpdate();
            long id;
            try (ResultSet keys = ins.getGeneratedKeys()) {
                keys.next();
                id = keys.getLong(1);
            }
            try (PreparedStatement fts = db.prepareStatement("INSERT INTO search(rowid, subject, sender, recipients, body) VALUES(?,?,?,?,?)")) {
                fts.setLong(1, -id);
                fts.setString(2, v.subject() == null ? "" : v.subject());
                fts.setString(3, from);
                fts.setString(4, to);
                fts.setString(5, text.length() > INDEXED_TEXT ? text.substring(0, INDEXED_TEXT) : text);
                fts.executeUpdate();
            }
            if (own) {
                db.commit();
            }
            return new Summary(id, folder, thread, from, to, v.subject() == null ? "" : v.subject(), date, received, size, flags,
                    verifiedSender, snippet, !v.attachments().isEmpty());
        } catch (SQLException e) {
            if (own) {
                rollback();
            }
            throw new IOException("cannot index a message: " + e.getMessage(), e);
        } finally {
            if (own) {
                restoreAutoCommit();
            }
        }
    }

    /** Opens a transaction unless one is open ({@link #bulk}); true when the caller must end it. */
    private boolean autoCommit() throws IOException {
        try {
            if (!db.getAutoCommit()) {
                return false;
            }
            db.setAutoCommit(false);
            return true;
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private void rollback() {
        try {
            db.rollback();
        } catch (SQLException e) {
            // nothing was committed
        }
    }

    private void restoreAutoCommit() {
        try {
            db.setAutoCommit(true);
        } catch (SQLException e) {
            // the next statement will say
        }
    }

    private static List<MessageView.Address> concat(List<MessageView.Address> a, List<MessageView.Address> b) {
        List<MessageView.Address> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    private static String addresses(List<MessageView.Address> list) {
        List<String> out = new ArrayList<>();
        for (MessageView.Address a : list) {
            out.add(a.name().isBlank() ? a.address() : a.name() + " <" + a.address() + ">");
        }
        return String.join(", ", out);
    }

    /** A reply joins the thread of the first message it refers to that is here; anything else starts one. */
    private String threadOf(String persona, MessageView v, String messageId) throws IOException {
        List<String> refs = new ArrayList<>(v.references());
        if (v.inReplyTo() != null && !v.inReplyTo().isBlank()) {
            refs.add(v.inReplyTo());
        }
        try (PreparedStatement q = db.prepareStatement("SELECT thread FROM messages WHERE persona = ? AND message_id = ? LIMIT 1")) {
            for (String ref : refs) {
                q.setString(1, persona);
                q.setString(2, ref);
                try (ResultSet r = q.executeQuery()) {
                    if (r.next()) {
                        return r.getString(1);
                    }
                }
            }
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
        return refs.isEmpty() ? messageId : refs.getFirst();
    }

    private static String flagText(Set<Flag> flags) {
        StringBuilder b = new StringBuilder();
        for (Flag f : Flag.values()) {
            if (flags.contains(f)) {
                b.append(f.letter);
            }
        }
        return b.toString();
    }

    private static Set<Flag> parseFlagText(String text) {
        return flagsOf(":2," + text);
    }

    /**
     * {@code persona}'s messages in {@code folder}, newest first, older than {@code before} (an
     * id; 0 for the newest), matching {@code query} (full-text: every word must appear) if given.
     */
    synchronized List<Summary> list(String persona, Optional<Folder> folder, Optional<String> query, long before, int limit)
            throws IOException {
        Optional<String> match = query.map(MailStore::ftsQuery).filter(q -> !q.isEmpty());
        if (query.isPresent() && match.isEmpty()) {
            return List.of();
        }
        // A search walks the full-text index newest first (rowid -id ascending) and stops at the
        // page's end, rather than collecting every match and sorting them: a common word in
        // 100,000 messages took 33 ms that way.
        StringBuilder sql = new StringBuilder(match.isPresent()
                ? "SELECT m.* FROM search s JOIN messages m ON m.id = -s.rowid WHERE s.search MATCH ? AND m.persona = ?"
                : "SELECT m.* FROM messages m WHERE m.persona = ?");
        List<Object> args = new ArrayList<>();
        match.ifPresent(args::add);
        args.add(persona);
        folder.ifPresent(f -> {
            sql.append(" AND m.folder = ?");
            args.add(f.id());
        });
        if (before > 0) {
            sql.append(match.isPresent() ? " AND s.rowid > ?" : " AND m.id < ?");
            args.add(match.isPresent() ? -before : before);
        }
        sql.append(match.isPresent() ? " ORDER BY s.rowid LIMIT ?" : " ORDER BY m.id DESC LIMIT ?");
        args.add(Math.max(1, Math.min(limit, 500)));
        try (PreparedStatement q = db.prepareStatement(sql.toString())) {
            for (int i = 0; i < args.size(); i++) {
                q.setObject(i + 1, args.get(i));
            }
            List<Summary> out = new ArrayList<>();
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    out.add(summary(r));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IOException("cannot list messages: " + e.getMessage(), e);
        }
    }

    /** A person's words as an FTS5 query: each word quoted (no operators from outside), all required, the last one a prefix. */
    static String ftsQuery(String text) {
        List<String> words = new ArrayList<>();
        for (String w : text.split("[\\s\\p{Punct}&&[^@.]]+")) {
            // No quote (it would end the FTS5 string) and no control character (SQLite ends a
            // string at NUL, leaving the quote open).
            String clean = w.replaceAll("[\"\\p{Cntrl}]", "").strip();
            if (!clean.isEmpty() && words.size() < 16) {
                words.add("\"" + clean + "\"");
            }
        }
        if (words.isEmpty()) {
            return "";
        }
        words.set(words.size() - 1, words.getLast() + "*");
        return String.join(" AND ", words);
    }

    private static Summary summary(ResultSet r) throws SQLException {
        return new Summary(r.getLong("id"), Folder.parse(r.getString("folder")).orElse(Folder.INBOX), r.getString("thread"),
                r.getString("sender"), r.getString("recipients"), r.getString("subject"), r.getLong("date"), r.getLong("received"),
                r.getLong("size"), parseFlagText(r.getString("flags")), Optional.ofNullable(r.getString("verified_sender")),
                r.getString("snippet"), r.getInt("attachments") > 0);
    }

    /** One of {@code persona}'s messages, with its file. */
    synchronized Optional<Map.Entry<Summary, Path>> get(String persona, long id) throws IOException {
        try (PreparedStatement q = db.prepareStatement("SELECT * FROM messages WHERE persona = ? AND id = ?")) {
            q.setString(1, persona);
            q.setLong(2, id);
            try (ResultSet r = q.executeQuery()) {
                if (!r.next()) {
                    return Optional.empty();
                }
                return Optional.of(Map.entry(summary(r), root.resolve(r.getString("file"))));
            }
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Moves a message to {@code folder} and gives it {@code flags}: one rename, then the index. */
    synchronized Summary update(String persona, long id, Folder folder, Set<Flag> flags) throws IOException {
        Map.Entry<Summary, Path> m = get(persona, id).orElseThrow(() -> new NoSuchFileException("message " + id));
        Path from = m.getValue();
        String others = otherFlags(from.getFileName().toString());
        String sub = flags.isEmpty() && others.isEmpty() && m.getKey().folder() == folder
                && from.getParent().getFileName().toString().equals("new") ? "new" : "cur";
        Path to = folderDir(persona, folder).resolve(sub).resolve(fileName(baseName(from.getFileName().toString()), flags, others));
        if (!to.equals(from)) {
            own(List.of(from.getParent(), to.getParent()), () -> {
                move(from, to);
                return null;
            });
        }
        try (PreparedStatement u = db.prepareStatement("UPDATE messages SET folder = ?, flags = ?, file = ? WHERE id = ?")) {
            u.setString(1, folder.id());
            u.setString(2, flagText(flags));
            u.setString(3, root.relativize(to).toString());
            u.setLong(4, id);
            u.executeUpdate();
        } catch (SQLException e) {
            move(to, from); // the index still names the old file
            throw new IOException(e.getMessage(), e);
        }
        return get(persona, id).orElseThrow().getKey();
    }

    /** Deletes a message for good: the index row, then the file. */
    synchronized void delete(String persona, long id) throws IOException {
        Map.Entry<Summary, Path> m = get(persona, id).orElseThrow(() -> new NoSuchFileException("message " + id));
        forget(id);
        own(List.of(m.getValue().getParent()), () -> Files.deleteIfExists(m.getValue()));
    }

    private void forget(long id) throws IOException {
        try (PreparedStatement d = db.prepareStatement("DELETE FROM messages WHERE id = ?");
                PreparedStatement f = db.prepareStatement("DELETE FROM search WHERE rowid = ?")) {
            d.setLong(1, id);
            d.executeUpdate();
            f.setLong(1, -id);
            f.executeUpdate();
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Work on the store that may fail. */
    interface Work {
        void run() throws IOException;
    }

    /**
     * Runs {@code work} as one index transaction, without syncing each file: for filling a
     * mailbox in bulk (an import, the benchmark), where a crash means starting the import again
     * ({@link #open} indexes whatever files made it).
     */
    synchronized void bulk(Work work) throws IOException {
        boolean committed = false;
        try {
            db.setAutoCommit(false);
            syncEach = false;
            work.run();
            db.commit();
            committed = true;
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        } finally {
            syncEach = true;
            if (!committed) {
                rollback(); // the files filed meanwhile are indexed at the next open
            }
            restoreAutoCommit();
        }
    }

    /** Per folder: how many messages, how many not seen. */
    synchronized Map<Folder, long[]> counts(String persona) throws IOException {
        Map<Folder, long[]> out = new LinkedHashMap<>();
        for (Folder f : Folder.values()) {
            out.put(f, new long[2]);
        }
        try (PreparedStatement q = db.prepareStatement("SELECT folder, count(*), sum(instr(flags, 'S') = 0) FROM messages"
                + " WHERE persona = ? GROUP BY folder")) {
            q.setString(1, persona);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    Optional<Folder> f = Folder.parse(r.getString(1));
                    if (f.isPresent()) {
                        out.put(f.get(), new long[] {r.getLong(2), r.getLong(3)});
                    }
                }
            }
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
        return out;
    }

    /** The files and the index agree again after a crash: new files indexed, vanished ones forgotten, stale tmp/ cleared. */
    private synchronized void reconcile() throws IOException {
        // Rows of mailboxes that are gone altogether (refresh only looks at those that are there).
        List<Long> orphans = new ArrayList<>();
        try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT id, persona FROM messages")) {
            while (r.next()) {
                if (!hasMailbox(r.getString(2))) {
                    orphans.add(r.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
        for (long id : orphans) {
            forget(id);
        }
        for (String persona : mailboxes()) {
            clear(maildir(persona).resolve("tmp"));
            refreshIfChanged(persona);
        }
    }

    /** The {@code new/} and {@code cur/} directories of a mailbox, where its messages are. */
    private List<Path> messageDirs(String persona) {
        List<Path> out = new ArrayList<>();
        for (Folder f : Folder.values()) {
            out.add(folderDir(persona, f).resolve("new"));
            out.add(folderDir(persona, f).resolve("cur"));
        }
        return out;
    }

    /** When each message directory last changed, as of the last time the index was brought in line with it. */
    private final Map<Path, java.nio.file.attribute.FileTime> seen = new java.util.HashMap<>();

    private static java.nio.file.attribute.FileTime changed(Path dir) {
        try {
            return Files.getLastModifiedTime(dir);
        } catch (IOException e) {
            return java.nio.file.attribute.FileTime.fromMillis(-1);
        }
    }

    /**
     * Runs a change of this store's own to the files in {@code dirs}: a directory the index was in
     * line with before it still is after it, so the change is not taken for another program's.
     */
    private <T> T own(List<Path> dirs, IoSupplier<T> change) throws IOException {
        Map<Path, java.nio.file.attribute.FileTime> before = new java.util.HashMap<>();
        dirs.forEach(d -> before.put(d, changed(d)));
        T result = change.get();
        for (Path d : dirs) {
            if (before.get(d).equals(seen.get(d))) {
                seen.put(d, changed(d));
            }
        }
        return result;
    }

    @FunctionalInterface
    interface IoSupplier<T> {
        T get() throws IOException;
    }

    /**
     * Brings the index in line with what another program (an IMAP server on the same Maildir, a
     * person's tool) did to {@code persona}'s files since the index last looked: cheap when nothing
     * changed (a look at each directory's time), and otherwise a listing of the directories that
     * changed. A message renamed (new flags, {@code new/} to {@code cur/}, another folder) keeps
     * its id and proved sender; a copy that replaces a vanished message (a move by copy and
     * expunge) inherits its proved sender when it has the same Message-ID and size; new files are
     * indexed; rows whose file is gone are forgotten.
     */
    synchronized void refreshIfChanged(String persona) throws IOException {
        if (!hasMailbox(persona)) {
            return;
        }
        Map<Path, java.nio.file.attribute.FileTime> now = new java.util.LinkedHashMap<>();
        for (Path d : messageDirs(persona)) {
            java.nio.file.attribute.FileTime t = changed(d);
            if (!t.equals(seen.get(d))) {
                now.put(d, t);
            }
        }
        if (now.isEmpty()) {
            return;
        }
        // What is on disk in the changed directories, by base name (the part a rename keeps).
        Map<String, Path> onDisk = new java.util.HashMap<>();
        for (Path dir : now.keySet()) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
                for (Path file : files) {
                    if (Files.isRegularFile(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                        onDisk.put(baseName(file.getFileName().toString()), file);
                    }
                }
            }
        }
        // The rows whose file was in a changed directory, or is not where the row says.
        record Row(long id, Path file, String messageId, long size, String sender) {
        }
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement q = db.prepareStatement("SELECT id, file, message_id, size, verified_sender FROM messages"
                + " WHERE persona = ?")) {
            q.setString(1, persona);
            try (ResultSet r = q.executeQuery()) {
                while (r.next()) {
                    Path file = root.resolve(r.getString(2));
                    if (now.containsKey(file.getParent()) || onDisk.containsKey(baseName(file.getFileName().toString()))) {
                        rows.add(new Row(r.getLong(1), file, r.getString(3), r.getLong(4), r.getString(5)));
                    }
                }
            }
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
        List<Row> gone = new ArrayList<>();
        for (Row row : rows) {
            Path there = onDisk.remove(baseName(row.file().getFileName().toString()));
            if (there == null) {
                if (!Files.exists(row.file())) {
                    gone.add(row);
                }
            } else if (!there.equals(row.file())) {
                relocate(persona, row.id(), there);
            }
        }
        for (Path file : onDisk.values()) {
            Optional<Folder> folder = folderOf(persona, file.getParent().getParent());
            if (folder.isEmpty()) {
                continue;
            }
            String key = persona + "/" + baseName(file.getFileName().toString());
            Optional<String> sender = proved(key);
            Summary s = index(persona, folder.get(), file, flagsOf(file.getFileName().toString()), sender,
                    Files.getLastModifiedTime(file).toMillis());
            prove(key, Optional.empty());
            if (sender.isEmpty()) {
                String messageId = messageIdOf(s.id());
                Optional<Row> was = gone.stream()
                        .filter(g -> g.sender() != null && g.messageId().equals(messageId) && g.size() == s.size()).findFirst();
                if (was.isPresent()) {
                    setSender(s.id(), was.get().sender());
                }
            }
        }
        for (Row g : gone) {
            forget(g.id());
        }
        seen.putAll(now);
    }

    private Optional<Folder> folderOf(String persona, Path folderDir) {
        for (Folder f : Folder.values()) {
            if (folderDir(persona, f).equals(folderDir)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /** A message renamed by another program: its row follows the file (folder, flags) and keeps its id. */
    private void relocate(String persona, long id, Path file) throws IOException {
        Optional<Folder> folder = folderOf(persona, file.getParent().getParent());
        if (folder.isEmpty()) {
            forget(id); // into a folder the webmail does not show
            return;
        }
        try (PreparedStatement u = db.prepareStatement("UPDATE messages SET folder = ?, flags = ?, file = ? WHERE id = ?")) {
            u.setString(1, folder.get().id());
            u.setString(2, flagText(flagsOf(file.getFileName().toString())));
            u.setString(3, root.relativize(file).toString());
            u.setLong(4, id);
            u.executeUpdate();
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private String messageIdOf(long id) throws IOException {
        try (PreparedStatement q = db.prepareStatement("SELECT message_id FROM messages WHERE id = ?")) {
            q.setLong(1, id);
            try (ResultSet r = q.executeQuery()) {
                return r.next() ? r.getString(1) : "";
            }
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private void setSender(long id, String sender) throws IOException {
        try (PreparedStatement u = db.prepareStatement("UPDATE messages SET verified_sender = ? WHERE id = ?")) {
            u.setString(1, sender);
            u.setLong(2, id);
            u.executeUpdate();
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private static void clear(Path tmp) throws IOException {
        if (!Files.isDirectory(tmp)) {
            return;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
            for (Path f : files) {
                Files.deleteIfExists(f);
            }
        }
    }

    @Override
    public synchronized void close() {
        try {
            db.close();
        } catch (SQLException e) {
            // closing anyway
        }
    }
}
