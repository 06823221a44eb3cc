package org.intrustd.mail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.intrustd.core.id.ApplianceId;

/**
 * Mail arriving from other appliances (docs/spec/mail.md, "Delivery"): the sender's address must
 * name the appliance the link proved, each recipient must have a mailbox here, and each
 * persona's policy says where it goes: a sender they accepted (or wrote to), or one on a paired
 * appliance, to the Inbox, a stranger to Requests, a blocked one nowhere (without telling the sender). Deliveries are
 * remembered by id for a week, so a retry after a lost answer is answered the same and stored once.
 */
final class Inbound implements AutoCloseable {
    /** One recipient's fate. */
    record Result(String address, String status) {
    }

    /** A refusal of the whole delivery, with its HTTP status. */
    static final class Refused extends Exception {
        final int status;

        Refused(int status, String detail) {
            super(detail);
            this.status = status;
        }
    }

    enum Verdict {
        ACCEPTED, BLOCKED;

        String id() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Messages a sending appliance may deliver in a burst, and how many a minute after that. */
    static final int BURST = 60;
    static final int PER_MINUTE = 30;
    /** The same for all appliances not paired with this one, together. */
    static final int STRANGERS_BURST = 200;
    static final int STRANGERS_PER_MINUTE = 60;
    private static final int MAX_BUCKETS = 10_000;
    private static final long REMEMBERED_MILLIS = 7L * 24 * 3600 * 1000;

    private final MailStore store;
    private final Directory directory;
    private final Path incoming;
    private final Connection db;
    private final Clock clock;
    private final Map<ApplianceId, Bucket> buckets = new ConcurrentHashMap<>();
    private final Bucket strangers;

    Inbound(Path dir, MailStore store, Directory directory, Clock clock) throws IOException {
        this.store = store;
        this.directory = directory;
        this.clock = clock;
        this.incoming = dir.resolve("incoming");
        this.strangers = new Bucket(STRANGERS_BURST, STRANGERS_PER_MINUTE, clock.millis());
        Files.createDirectories(incoming);
        try (var stale = Files.newDirectoryStream(incoming)) {
            for (Path f : stale) {
                Files.deleteIfExists(f); // a delivery cut off by a kill: its sender still has it queued
            }
        }
        try {
            db = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("inbound.db"));
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("CREATE TABLE IF NOT EXISTS received(peer TEXT NOT NULL, id TEXT NOT NULL, at INTEGER NOT NULL,"
                        + " result TEXT NOT NULL, PRIMARY KEY(peer, id))");
                s.execute("CREATE TABLE IF NOT EXISTS senders(persona TEXT NOT NULL, sender TEXT NOT NULL, verdict TEXT NOT NULL,"
                        + " PRIMARY KEY(persona, sender))");
            }
        } catch (SQLException e) {
            throw new IOException("cannot open the inbound state: " + e.getMessage(), e);
        }
    }

    /**
     * Takes one message from {@code peer}'s rate allowance, and for an appliance that is not
     * paired also from the allowance all of them share (a new appliance ID costs nothing, so
     * per-appliance limits alone would not hold back a flood); false when either has none left.
     */
    boolean admit(ApplianceId peer, boolean paired) {
        long now = clock.millis();
        if (buckets.size() > MAX_BUCKETS) {
            buckets.values().removeIf(b -> b.full(now)); // a full bucket is as good as none
        }
        if (!buckets.computeIfAbsent(peer, k -> new Bucket(BURST, PER_MINUTE, now)).take(now)) {
            return false;
        }
        return paired || strangers.take(now);
    }

    /** A token bucket: {@code burst} messages at once, then {@code perMinute}. */
    private static final class Bucket {
        private final long capacity; // thousandths of a message
        private final long perMinute;
        private long level;
        private long filled;

        Bucket(long burst, long perMinute, long now) {
            this.capacity = burst * 1000;
            this.perMinute = perMinute;
            this.level = capacity;
            this.filled = now;
        }

        synchronized boolean take(long now) {
            refill(now);
            if (level < 1000) {
                return false;
            }
            level -= 1000;
            return true;
        }

        synchronized boolean full(long now) {
            refill(now);
            return level == capacity;
        }

        private void refill(long now) {
            level = Math.min(capacity, level + Math.max(0, now - filled) * perMinute / 60);
            filled = now;
        }
    }

    /** Where an arriving message's bytes go while they come. */
    Path incomingFile() {
        return incoming.resolve(DeliveryId.next() + ".eml");
    }

    /**
     * Delivers the message in {@code received} (which this call removes) from {@code peer} (paired
     * with this appliance or not) to the recipients {@code to}, as appliance {@code self}.
     */
    List<Result> deliver(ApplianceId self, ApplianceId peer, boolean paired, String deliveryId, String mailFrom, List<String> to,
            Path received)
            throws Refused, IOException {
        try {
            if (!DeliveryId.valid(deliveryId)) {
                throw new Refused(400, "a delivery id is 22 base64url characters");
            }
            MailAddress from = MailAddress.parse(mailFrom).orElseThrow(
                    () -> new Refused(400, "the sender is not an Intrustd address: " + printable(mailFrom)));
            if (!from.appliance().equals(peer)) {
                throw new Refused(403, "the sender's address names appliance " + from.appliance()
                        + ", but the message came from " + peer);
            }
            if (to.isEmpty() || to.size() > 100) {
                throw new Refused(400, "a delivery names 1 to 100 recipients");
            }
            Optional<List<Result>> before = remembered(peer, deliveryId);
            if (before.isPresent()) {
                return before.get();
            }
            checkHeaders(received, peer);
            Path stamped = incomingFile();
            try (OutputStream out = Files.newOutputStream(stamped); InputStream in = Files.newInputStream(received)) {
                out.write(receivedField(peer, self, deliveryId).getBytes(StandardCharsets.US_ASCII));
                in.transferTo(out);
            }
            List<Result> results = new ArrayList<>();
            Map<String, MailStore.Folder> where = new LinkedHashMap<>();
            for (String t : to) {
                Optional<MailAddress> a = MailAddress.parse(t);
                if (a.isEmpty() || !a.get().appliance().equals(self) || !hasMailbox(a.get().persona())) {
                    results.add(new Result(t, "unknown"));
                    continue;
                }
                String persona = a.get().persona();
                results.add(new Result(t, "accepted"));
                if (where.containsKey(persona)) {
                    continue; // one copy per mailbox, however many of its addresses were named
                }
                Optional<Verdict> verdict = verdict(persona, from);
                if (verdict.equals(Optional.of(Verdict.BLOCKED))) {
                    where.put(persona, null);
                } else {
                    // A colleague on this appliance, or anyone on a paired one, is no stranger.
                    boolean known = verdict.isPresent() || peer.equals(self) || paired;
                    where.put(persona, known ? MailStore.Folder.INBOX : MailStore.Folder.REQUESTS);
                }
            }
            for (var e : where.entrySet()) {
                if (e.getValue() != null) {
                    Path copy = store.tempFile(e.getKey());
                    try {
                        Files.createLink(copy, stamped); // the same bytes in every mailbox, written once
                    } catch (IOException | UnsupportedOperationException x) {
                        Files.copy(stamped, copy);
                    }
                    store.add(e.getKey(), e.getValue(), copy, EnumSet.noneOf(MailStore.Flag.class), Optional.of(from.mailbox().toString()));
                }
            }
            Files.deleteIfExists(stamped);
            remember(peer, deliveryId, results);
            return results;
        } finally {
            Files.deleteIfExists(received);
        }
    }

    /** Every persona of the appliance has a mailbox, made when the first message comes if they never opened Mail. */
    private boolean hasMailbox(String persona) {
        return store.hasMailbox(persona) || MailStore.validPersona(persona) && directory.personas().containsKey(persona);
    }

    /** The message's own From (and Sender) must be the sending appliance's too: what a reader sees is what was proved. */
    private static void checkHeaders(Path message, ApplianceId peer) throws Refused, IOException {
        MessageView v = MessageView.read(message, false);
        if (v.from().size() != 1) {
            throw new Refused(400, "a message names exactly one author in From");
        }
        Optional<MailAddress> author = MailAddress.parse(v.from().getFirst().address());
        if (author.isEmpty() || !author.get().appliance().equals(peer)) {
            throw new Refused(403, "the From address (" + printable(v.from().getFirst().address())
                    + ") is not one of the sending appliance's");
        }
    }

    private static String receivedField(ApplianceId peer, ApplianceId self, String deliveryId) {
        String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
        return "Received: from " + MailAddress.domain(peer) + " by " + MailAddress.domain(self) + " with intrustd-link id "
                + deliveryId + ";\r\n\t" + date + "\r\n";
    }

    static String printable(String s) {
        String cut = s.length() > 120 ? s.substring(0, 120) + "…" : s;
        return cut.replaceAll("\\p{Cntrl}", "?");
    }

    private Optional<List<Result>> remembered(ApplianceId peer, String id) throws IOException {
        synchronized (db) {
            try (PreparedStatement q = db.prepareStatement("SELECT result FROM received WHERE peer = ? AND id = ?")) {
                q.setString(1, peer.toString());
                q.setString(2, id);
                try (ResultSet r = q.executeQuery()) {
                    if (!r.next()) {
                        return Optional.empty();
                    }
                    List<Result> out = new ArrayList<>();
                    for (String line : r.getString(1).split("\n")) {
                        int tab = line.indexOf('\t');
                        out.add(new Result(line.substring(0, tab), line.substring(tab + 1)));
                    }
                    return Optional.of(out);
                }
            } catch (SQLException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    private void remember(ApplianceId peer, String id, List<Result> results) throws IOException {
        StringBuilder text = new StringBuilder();
        for (Result r : results) {
            text.append(text.isEmpty() ? "" : "\n").append(r.address()).append('\t').append(r.status());
        }
        synchronized (db) {
            try (PreparedStatement ins = db.prepareStatement("INSERT OR REPLACE INTO received VALUES(?,?,?,?)");
                    PreparedStatement old = db.prepareStatement("DELETE FROM received WHERE at < ?")) {
                ins.setString(1, peer.toString());
                ins.setString(2, id);
                ins.setLong(3, clock.millis());
                ins.setString(4, text.toString());
                ins.executeUpdate();
                old.setLong(1, clock.millis() - REMEMBERED_MILLIS);
                old.executeUpdate();
            } catch (SQLException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    /** What {@code persona} said of this sender: of the address itself, or else of its whole appliance ({@code *@domain}). */
    private Optional<Verdict> verdict(String persona, MailAddress from) throws IOException {
        Map<String, Verdict> all = senders(persona);
        Verdict v = all.get(from.mailbox().toString());
        return Optional.ofNullable(v != null ? v : all.get("*@" + MailAddress.domain(from.appliance())));
    }

    /** {@code persona}'s accepted and blocked senders. */
    Map<String, Verdict> senders(String persona) throws IOException {
        synchronized (db) {
            try (PreparedStatement q = db.prepareStatement("SELECT sender, verdict FROM senders WHERE persona = ? ORDER BY sender")) {
                q.setString(1, persona);
                Map<String, Verdict> out = new LinkedHashMap<>();
                try (ResultSet r = q.executeQuery()) {
                    while (r.next()) {
                        out.put(r.getString(1), Verdict.valueOf(r.getString(2).toUpperCase(java.util.Locale.ROOT)));
                    }
                }
                return out;
            } catch (SQLException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    /**
     * Records what {@code persona} says of {@code sender}: an address, or {@code *@<domain>} for
     * a whole appliance; empty forgets it. The sender must be an Intrustd address.
     */
    void judge(String persona, String sender, Optional<Verdict> verdict) throws IOException {
        String key = senderKey(sender).orElseThrow(() -> new IllegalArgumentException(
                "a sender is an Intrustd address, or *@<appliance ID>.intrustd for a whole appliance"));
        synchronized (db) {
            try (PreparedStatement u = verdict.isPresent()
                    ? db.prepareStatement("INSERT OR REPLACE INTO senders VALUES(?,?,?)")
                    : db.prepareStatement("DELETE FROM senders WHERE persona = ? AND sender = ?")) {
                u.setString(1, persona);
                u.setString(2, key);
                if (verdict.isPresent()) {
                    u.setString(3, verdict.get().id());
                }
                u.executeUpdate();
            } catch (SQLException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    /** A sender in canonical form: the address without its tag, or {@code *@} and the appliance's domain. */
    static Optional<String> senderKey(String sender) {
        if (sender.startsWith("*@")) {
            return MailAddress.appliance(sender.substring(2)).map(a -> "*@" + MailAddress.domain(a));
        }
        return MailAddress.parse(sender).map(a -> a.mailbox().toString());
    }

    @Override
    public void close() {
        synchronized (db) {
            try {
                db.close();
            } catch (SQLException e) {
                // closing anyway
            }
        }
    }
}
