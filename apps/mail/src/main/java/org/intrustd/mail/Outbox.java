package org.intrustd.mail;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Mail waiting to reach other appliances: a durable queue (docs/spec/mail.md, "Store and
 * forward"). A message is spooled as a file and synced before its rows are committed, one row
 * per recipient appliance, each with its own delivery id; a row goes only after the recipient
 * answered. A kill at any point leaves the message either not yet queued (the sender was not
 * told it was sent) or queued; a delivery repeated after a kill carries the same id, and the
 * recipient keeps it once.
 */
final class Outbox implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("mail.outbox");

    /** A row of the queue as its sender sees it. */
    record Entry(String id, String persona, String route, List<String> recipients, long created, long nextAttempt,
            int attempts, String lastError) {
    }

    /**
     * A finished delivery, for its sender to see how it went: {@code latencyMillis} from being
     * queued to the answer, {@code callMillis} the last (answered) call alone.
     */
    record Done(String persona, String route, List<String> recipients, String outcome, long finished, long latencyMillis,
            long callMillis, int attempts) {
    }

    /** Finished deliveries kept for their senders to look at, per app run. */
    private static final int RECENT = 200;

    /** Told when a message can't be delivered, to write the bounce. */
    interface Bounces {
        void bounce(String persona, Path message, List<String> recipients, String reason) throws IOException;
    }

    /** Retry timing: the first wait, the longest, and how long a message is tried before it bounces. */
    record Schedule(Duration first, Duration longest, Duration expiry) {
        static final Schedule DEFAULT = new Schedule(Duration.ofSeconds(30), Duration.ofHours(1), Duration.ofDays(5));

        long waitMillis(int attempts) {
            double base = first.toMillis() * Math.pow(2, Math.min(attempts - 1, 30));
            double capped = Math.min(base, longest.toMillis());
            return (long) (capped * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
        }
    }

    private final Path spool;
    private final Connection db;
    private final Transport transport;
    private final Bounces bounces;
    private final Schedule schedule;
    private final Clock clock;
    private final Object wake = new Object();
    private final java.util.ArrayDeque<Done> recent = new java.util.ArrayDeque<>();
    private volatile boolean closed;
    private Thread worker;

    Outbox(Path dir, Transport transport, Bounces bounces, Schedule schedule, Clock clock) throws IOException {
        this.spool = dir.resolve("spool");
        this.transport = transport;
        this.bounces = bounces;
        this.schedule = schedule;
        this.clock = clock;
        Files.createDirectories(spool);
        try {
            db = DriverManager.getConnection("jdbc:sqlite:" + dir.resolve("outbox.db"));
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL"); // a queued message is a promise to the sender
                s.execute("""
                        CREATE TABLE IF NOT EXISTS queue(
                          id TEXT PRIMARY KEY,
                          persona TEXT NOT NULL,
                          file TEXT NOT NULL,
                          mail_from TEXT NOT NULL,
                          route TEXT NOT NULL,
                          recipients TEXT NOT NULL,
                          created INTEGER NOT NULL,
                          next_attempt INTEGER NOT NULL,
                          attempts INTEGER NOT NULL,
                          last_error TEXT NOT NULL)""");
            }
        } catch (SQLException e) {
            throw new IOException("cannot open the outbox: " + e.getMessage(), e);
        }
        removeOrphans();
    }

    /** Starts delivering in the background. */
    Outbox start() {
        worker = Thread.ofVirtual().name("mail-outbox").start(this::run);
        return this;
    }

    /** A file in the spool for a message about to be queued (written by the caller, then {@link #queue}d). */
    Path spoolFile() {
        return spool.resolve(java.util.UUID.randomUUID() + ".eml");
    }

    /**
     * Queues {@code message} (a file in the spool, complete) from {@code persona} for each
     * route's recipients (Transport.Delivery). Returns once it is durable.
     */
    void queue(String persona, Path message, String mailFrom, Map<String, List<String>> recipients) throws IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(message, java.nio.file.StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        long now = clock.millis();
        synchronized (db) {
            try (PreparedStatement ins = db.prepareStatement("INSERT INTO queue VALUES(?,?,?,?,?,?,?,?,?,?)")) {
                db.setAutoCommit(false);
                for (var e : recipients.entrySet()) {
                    ins.setString(1, DeliveryId.next());
                    ins.setString(2, persona);
                    ins.setString(3, message.getFileName().toString());
                    ins.setString(4, mailFrom);
                    ins.setString(5, e.getKey());
                    ins.setString(6, String.join("\n", e.getValue()));
                    ins.setLong(7, now);
                    ins.setLong(8, now);
                    ins.setInt(9, 0);
                    ins.setString(10, "");
                    ins.executeUpdate();
                }
                db.commit();
            } catch (SQLException e) {
                rollback();
                throw new IOException("cannot queue the message: " + e.getMessage(), e);
            } finally {
                autoCommit();
            }
        }
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** What {@code persona} has waiting. */
    List<Entry> pending(String persona) throws IOException {
        synchronized (db) {
            try (PreparedStatement q = db.prepareStatement("SELECT * FROM queue WHERE persona = ? ORDER BY created")) {
                q.setString(1, persona);
                List<Entry> out = new ArrayList<>();
                try (ResultSet r = q.executeQuery()) {
                    while (r.next()) {
                        out.add(entry(r));
                    }
                }
                return out;
            } catch (SQLException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
    }

    /** {@code persona}'s latest finished deliveries, newest first. */
    List<Done> recent(String persona) {
        synchronized (recent) {
            return recent.stream().filter(d -> d.persona().equals(persona)).toList();
        }
    }

    private void finished(Entry e, String outcome, long callMillis) {
        long now = clock.millis();
        synchronized (recent) {
            recent.addFirst(new Done(e.persona(), e.route(), e.recipients(), outcome, now, now - e.created(), callMillis,
                    e.attempts() + 1));
            while (recent.size() > RECENT) {
                recent.removeLast();
            }
        }
    }

    /** Tries every waiting delivery now (an appliance came back, or the owner asked). */
    void retryNow() {
        synchronized (db) {
            try (Statement s = db.createStatement()) {
                s.executeUpdate("UPDATE queue SET next_attempt = 0");
            } catch (SQLException e) {
                LOG.log(Level.WARNING, "cannot reschedule the outbox", e);
            }
        }
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    private static Entry entry(ResultSet r) throws SQLException {
        return new Entry(r.getString("id"), r.getString("persona"), r.getString("route"),
                List.of(r.getString("recipients").split("\n")), r.getLong("created"), r.getLong("next_attempt"),
                r.getInt("attempts"), r.getString("last_error"));
    }

    private void run() {
        while (!closed) {
            long wait;
            try {
                wait = deliverDue();
            } catch (RuntimeException | IOException e) {
                LOG.log(Level.WARNING, "the outbox failed a round", e);
                wait = 5_000;
            }
            synchronized (wake) {
                try {
                    if (!closed && wait > 0) {
                        wake.wait(Math.min(wait, 60_000));
                    }
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Delivers what is due, one after another; returns how long until the next is. */
    long deliverDue() throws IOException {
        while (!closed) {
            Row row;
            synchronized (db) {
                try (PreparedStatement q = db.prepareStatement("SELECT * FROM queue ORDER BY next_attempt LIMIT 1");
                        ResultSet r = q.executeQuery()) {
                    if (!r.next()) {
                        return Long.MAX_VALUE;
                    }
                    long due = r.getLong("next_attempt") - clock.millis();
                    if (due > 0) {
                        return due;
                    }
                    row = new Row(entry(r), r.getString("file"), r.getString("mail_from"));
                } catch (SQLException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
            attempt(row);
        }
        return Long.MAX_VALUE;
    }

    private record Row(Entry entry, String file, String mailFrom) {
    }

    private void attempt(Row row) throws IOException {
        Entry e = row.entry();
        Path message = spool.resolve(row.file());
        long start = System.nanoTime();
        Transport.Outcome outcome = Files.exists(message)
                ? transport.deliver(new Transport.Delivery(e.persona(), e.route(), e.id(), row.mailFrom(), e.recipients(), message))
                : new Transport.Permanent("the queued message file is missing");
        long callMillis = (System.nanoTime() - start) / 1_000_000;
        switch (outcome) {
            case Transport.Delivered d -> {
                List<String> refused = new ArrayList<>();
                for (String r : e.recipients()) {
                    String status = d.statuses().getOrDefault(r, "refused");
                    if (!status.equals("accepted")) {
                        refused.add(r + " (" + status + ")");
                    }
                }
                if (!refused.isEmpty()) {
                    bounce(e, message, refused, "the recipient's appliance did not take it for these addresses");
                }
                done(e, row.file());
                finished(e, refused.isEmpty() ? "delivered" : "partly bounced", callMillis);
            }
            case Transport.Permanent p -> {
                bounce(e, message, e.recipients(), p.reason());
                done(e, row.file());
                finished(e, "bounced", callMillis);
            }
            case Transport.Temporary t -> {
                long now = clock.millis();
                if (now - e.created() >= schedule.expiry().toMillis()) {
                    bounce(e, message, e.recipients(), "not delivered within " + schedule.expiry().toHours()
                            + " hours; the last attempt said: " + t.reason());
                    done(e, row.file());
                    finished(e, "expired", callMillis);
                } else {
                    reschedule(e, now + schedule.waitMillis(e.attempts() + 1), t.reason());
                }
            }
        }
    }

    private void bounce(Entry e, Path message, List<String> recipients, String reason) {
        try {
            bounces.bounce(e.persona(), message, recipients, reason);
        } catch (IOException | RuntimeException x) {
            LOG.log(Level.WARNING, "cannot write a bounce for " + e.id(), x);
        }
    }

    private void reschedule(Entry e, long next, String reason) throws IOException {
        synchronized (db) {
            try (PreparedStatement u = db.prepareStatement("UPDATE queue SET next_attempt = ?, attempts = attempts + 1,"
                    + " last_error = ? WHERE id = ?")) {
                u.setLong(1, next);
                u.setString(2, reason.length() > 500 ? reason.substring(0, 500) : reason);
                u.setString(3, e.id());
                u.executeUpdate();
            } catch (SQLException x) {
                throw new IOException(x.getMessage(), x);
            }
        }
    }

    /** The row goes; the spooled file too when no other row needs it. */
    private void done(Entry e, String file) throws IOException {
        synchronized (db) {
            try (PreparedStatement d = db.prepareStatement("DELETE FROM queue WHERE id = ?");
                    PreparedStatement left = db.prepareStatement("SELECT count(*) FROM queue WHERE file = ?")) {
                d.setString(1, e.id());
                d.executeUpdate();
                left.setString(1, file);
                try (ResultSet r = left.executeQuery()) {
                    if (r.next() && r.getLong(1) == 0) {
                        Files.deleteIfExists(spool.resolve(file));
                    }
                }
            } catch (SQLException x) {
                throw new IOException(x.getMessage(), x);
            }
        }
    }

    /** Spooled files no row names: a kill came between writing one and queueing it. */
    private void removeOrphans() throws IOException {
        java.util.Set<String> named = new java.util.HashSet<>();
        synchronized (db) {
            try (Statement s = db.createStatement(); ResultSet r = s.executeQuery("SELECT DISTINCT file FROM queue")) {
                while (r.next()) {
                    named.add(r.getString(1));
                }
            } catch (SQLException e) {
                throw new IOException(e.getMessage(), e);
            }
        }
        try (var files = Files.newDirectoryStream(spool)) {
            for (Path f : files) {
                if (!named.contains(f.getFileName().toString())) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private void rollback() {
        try {
            db.rollback();
        } catch (SQLException e) {
            // the connection is gone; nothing was committed
        }
    }

    private void autoCommit() {
        try {
            db.setAutoCommit(true);
        } catch (SQLException e) {
            // next use will fail loudly
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (wake) {
            wake.notifyAll();
        }
        if (worker != null) {
            worker.interrupt();
            try {
                worker.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (db) {
            try {
                db.close();
            } catch (SQLException e) {
                // closing anyway
            }
        }
    }
}
