package org.intrustd.mail;

import jakarta.mail.Address;
import jakarta.mail.AuthenticationFailedException;
import jakarta.mail.Folder;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.UIDFolder;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.util.SharedFileInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.angus.mail.smtp.SMTPAddressFailedException;
import org.eclipse.angus.mail.smtp.SMTPSendFailedException;

/**
 * Mail to and from ordinary addresses, through each persona's external account (Jakarta
 * Mail, Eclipse Angus): submission over SMTP for the outbox's {@code smtp} route, and IMAP
 * fetching into the Inbox on a schedule. In the sandbox the app has no network of its own:
 * both go through the daemon's egress proxy ({@code HTTPS_PROXY}), which lets through the
 * hosts the owner granted.
 */
final class External implements Transport, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("mail.external");
    private static final int TIMEOUT_MILLIS = 30_000;
    /** Messages taken from the provider in one fetch, at most: the next fetch takes the rest. */
    private static final int FETCH_BATCH = 500;

    private final Accounts accounts;
    private final MailStore store;
    private final Connection db;
    private final Optional<URI> proxy;
    private final Map<String, Long> lastFetch = new ConcurrentHashMap<>();
    private final Map<String, String> lastError = new ConcurrentHashMap<>();
    private volatile boolean closed;
    private Thread fetcher;

    External(Path data, Accounts accounts, MailStore store, Optional<URI> proxy) throws IOException {
        this.accounts = accounts;
        this.store = store;
        this.proxy = proxy;
        try {
            db = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("external.db"));
            try (Statement s = db.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                // Per persona and account address: the IMAP folder's UIDVALIDITY and the highest UID taken.
                s.execute("CREATE TABLE IF NOT EXISTS fetched(persona TEXT NOT NULL, address TEXT NOT NULL, uidvalidity INTEGER NOT NULL,"
                        + " last_uid INTEGER NOT NULL, PRIMARY KEY(persona, address))");
            }
        } catch (SQLException e) {
            throw new IOException("cannot open the external accounts' state: " + e.getMessage(), e);
        }
    }

    /** The proxy in {@code HTTPS_PROXY}, if any (the sandbox sets it to the egress proxy). */
    static Optional<URI> proxyFromEnvironment() {
        String p = System.getenv("HTTPS_PROXY");
        if (p == null || p.isBlank()) {
            return Optional.empty();
        }
        try {
            URI u = URI.create(p.strip());
            return u.getHost() == null || u.getPort() < 0 ? Optional.empty() : Optional.of(u);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private Session session(String protocol, Accounts.Server server) {
        Properties p = new Properties();
        String prefix = "mail." + protocol + ".";
        p.put(prefix + "host", server.host());
        p.put(prefix + "port", Integer.toString(server.port()));
        p.put(prefix + "connectiontimeout", Integer.toString(TIMEOUT_MILLIS));
        p.put(prefix + "timeout", Integer.toString(TIMEOUT_MILLIS));
        p.put(prefix + "writetimeout", Integer.toString(TIMEOUT_MILLIS));
        switch (server.security()) {
            case TLS -> {
                p.put(prefix + "ssl.enable", "true");
                p.put(prefix + "ssl.checkserveridentity", "true");
            }
            case STARTTLS -> {
                p.put(prefix + "starttls.enable", "true");
                p.put(prefix + "starttls.required", "true");
                p.put(prefix + "ssl.checkserveridentity", "true");
            }
            case NONE -> { }
        }
        if (protocol.equals("smtp")) {
            p.put(prefix + "auth", "true");
        }
        proxy.ifPresent(u -> {
            p.put(prefix + "proxy.host", u.getHost());
            p.put(prefix + "proxy.port", Integer.toString(u.getPort()));
        });
        return Session.getInstance(p);
    }

    // ------------------------------------------------------------ sending

    @Override
    public Outcome deliver(Delivery d) {
        Optional<Accounts.Account> account;
        try {
            account = accounts.get(d.persona());
        } catch (IOException | RuntimeException e) {
            return new Temporary("the external account cannot be read: " + e.getMessage());
        }
        if (account.isEmpty()) {
            return new Permanent("no external account is set up for mail to ordinary addresses");
        }
        Accounts.Server smtp = account.get().smtp();
        Session session = session("smtp", smtp);
        try (SharedFileInputStream in = new SharedFileInputStream(d.message().toFile())) {
            MimeMessage m = new MimeMessage(session, in); // the body stays in the file
            Address[] to = new Address[d.to().size()];
            for (int i = 0; i < to.length; i++) {
                to[i] = new InternetAddress(d.to().get(i));
            }
            try (jakarta.mail.Transport t = session.getTransport("smtp")) {
                t.connect(smtp.host(), smtp.port(), smtp.username(), smtp.password());
                t.sendMessage(m, to);
            }
            Map<String, String> statuses = new java.util.LinkedHashMap<>();
            d.to().forEach(r -> statuses.put(r, "accepted"));
            return new Delivered(statuses);
        } catch (AuthenticationFailedException e) {
            return new Temporary("the provider refused the login (" + e.getMessage() + "): check the account's SMTP user and password");
        } catch (SendFailedException e) {
            return failed(e, d.to());
        } catch (MessagingException | IOException e) {
            return new Temporary("the provider could not be reached or failed: " + describe(e));
        }
    }

    /** An SMTP refusal: 5xx for every address is final, per address where the server said which; 4xx is for later. */
    private static Outcome failed(SendFailedException e, List<String> to) {
        int code = e instanceof SMTPSendFailedException s ? s.getReturnCode()
                : e.getNextException() instanceof SMTPAddressFailedException a ? a.getReturnCode() : 0;
        Address[] invalid = e.getInvalidAddresses();
        Address[] sent = e.getValidSentAddresses();
        if (sent != null && sent.length > 0) {
            Map<String, String> statuses = new java.util.LinkedHashMap<>();
            to.forEach(r -> statuses.put(r, "refused"));
            for (Address a : sent) {
                statuses.put(((InternetAddress) a).getAddress(), "accepted");
            }
            return new Delivered(statuses);
        }
        if (code >= 500 || (invalid != null && invalid.length == to.size())) {
            return new Permanent("the provider refused it: " + describe(e));
        }
        return new Temporary("the provider deferred it: " + describe(e));
    }

    private static String describe(Exception e) {
        StringBuilder b = new StringBuilder(String.valueOf(e.getMessage()));
        Throwable c = e.getCause() != null ? e.getCause() : e instanceof MessagingException m ? m.getNextException() : null;
        if (c != null && c != e) {
            b.append(" (").append(c.getMessage()).append(')');
        }
        return b.toString().replaceAll("\\s+", " ").strip();
    }

    // ------------------------------------------------------------ fetching

    /** Fetches every account when its time has come, every minute, in the background. */
    External start() {
        fetcher = Thread.ofVirtual().name("mail-fetch").start(() -> {
            while (!closed) {
                try {
                    for (String persona : accounts.personas()) {
                        Optional<Accounts.Account> a = accounts.get(persona);
                        long due = lastFetch.getOrDefault(persona, 0L) + a.map(x -> x.fetchEveryMinutes() * 60_000L).orElse(0L);
                        if (a.isPresent() && System.currentTimeMillis() >= due) {
                            fetch(persona);
                        }
                    }
                    Thread.sleep(60_000);
                } catch (InterruptedException e) {
                    return;
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.WARNING, "fetching failed", e);
                }
            }
        });
        return this;
    }

    /** The result of one fetch. */
    record Fetched(int messages, Optional<String> error) {
    }

    /**
     * Takes the new messages of {@code persona}'s account's INBOX into their Inbox. A message is
     * known by the folder's UIDVALIDITY and its UID: each is taken once, and the highest UID is
     * recorded after each message, so a kill repeats at most the message it was filing.
     */
    synchronized Fetched fetch(String persona) throws IOException {
        lastFetch.put(persona, System.currentTimeMillis());
        Optional<Accounts.Account> account = accounts.get(persona);
        if (account.isEmpty()) {
            return new Fetched(0, Optional.of("no external account is set up"));
        }
        Accounts.Server imap = account.get().imap();
        String protocol = imap.security() == Accounts.Security.TLS ? "imaps" : "imap";
        Session session = session(protocol, imap);
        int taken = 0;
        try (Store s = session.getStore(protocol)) {
            s.connect(imap.host(), imap.port(), imap.username(), imap.password());
            Folder inbox = s.getFolder("INBOX");
            inbox.open(Folder.READ_ONLY);
            try {
                UIDFolder uids = (UIDFolder) inbox;
                long validity = uids.getUIDValidity();
                long last = lastUid(persona, account.get().address(), validity);
                Message[] fresh = uids.getMessagesByUID(last + 1, UIDFolder.MAXUID);
                for (Message m : fresh) {
                    long uid = uids.getUID(m);
                    if (uid <= last) {
                        continue; // a server answers n:* with the last message even when none is newer
                    }
                    if (taken == FETCH_BATCH) {
                        break;
                    }
                    Path file = store.tempFile(persona);
                    try (OutputStream out = Files.newOutputStream(file)) {
                        m.writeTo(out);
                    }
                    store.add(persona, MailStore.Folder.INBOX, file, EnumSet.noneOf(MailStore.Flag.class), Optional.empty());
                    recordUid(persona, account.get().address(), validity, uid);
                    last = uid;
                    taken++;
                }
            } finally {
                inbox.close(false);
            }
            lastError.remove(persona);
            return new Fetched(taken, Optional.empty());
        } catch (MessagingException e) {
            String why = e instanceof AuthenticationFailedException ? "the provider refused the login: " + describe(e)
                    : "the provider could not be reached or failed: " + describe(e);
            lastError.put(persona, why);
            return new Fetched(taken, Optional.of(why));
        }
    }

    /** The last fetch's failure for {@code persona}, if it failed. */
    Optional<String> lastError(String persona) {
        return Optional.ofNullable(lastError.get(persona));
    }

    private long lastUid(String persona, String address, long validity) throws IOException {
        try (PreparedStatement q = db.prepareStatement("SELECT uidvalidity, last_uid FROM fetched WHERE persona = ? AND address = ?")) {
            q.setString(1, persona);
            q.setString(2, address);
            try (ResultSet r = q.executeQuery()) {
                // A new UIDVALIDITY means the server renumbered the folder: everything there is taken anew.
                return r.next() && r.getLong(1) == validity ? r.getLong(2) : 0;
            }
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private void recordUid(String persona, String address, long validity, long uid) throws IOException {
        try (PreparedStatement u = db.prepareStatement("INSERT OR REPLACE INTO fetched VALUES(?,?,?,?)")) {
            u.setString(1, persona);
            u.setString(2, address);
            u.setLong(3, validity);
            u.setLong(4, uid);
            u.executeUpdate();
        } catch (SQLException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        closed = true;
        if (fetcher != null) {
            fetcher.interrupt();
        }
        synchronized (this) {
            try {
                db.close();
            } catch (SQLException e) {
                // closing anyway
            }
        }
    }
}
