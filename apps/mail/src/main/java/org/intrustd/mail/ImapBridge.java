package org.intrustd.mail;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * IMAP for desktop mail clients (docs/mail.md, "Desktop mail clients"): Dovecot's IMAP server,
 * run for one session in preauthenticated mode as the persona the link proved (no password
 * goes over the wire; the device enrolled for the persona is the login), on that persona's
 * Maildir. Dovecot's own index and UID lists live beside, in the app's data, so the Maildir
 * stays plain. The store's index follows what the client changes ({@link MailStore#refreshIfChanged}).
 */
final class ImapBridge {
    private static final System.Logger LOG = System.getLogger("intrustd.mail");
    static final Path DOVECOT_IMAP = Path.of("/usr/lib/dovecot/imap");
    /** Sessions one persona may hold open at once: a desktop client opens a few, not hundreds. */
    static final int MAX_SESSIONS = 16;

    private final Path home;
    private final Path config;
    private final Optional<String> unavailable;
    private final Map<String, AtomicInteger> open = new ConcurrentHashMap<>();

    ImapBridge(Path data) throws IOException {
        this.home = data.resolve("imap");
        this.config = home.resolve("dovecot.conf");
        Optional<String> why = Optional.empty();
        long[] ids = ids();
        if (!Files.isExecutable(DOVECOT_IMAP)) {
            why = Optional.of("desktop IMAP needs Dovecot's IMAP server on the appliance (the dovecot-imapd package)");
        } else if (ids[0] == 0) {
            why = Optional.of("Dovecot will not serve mail as root: run the app in its sandbox");
        } else {
            Files.createDirectories(home.resolve("run"));
            Files.writeString(config, config(home, ids[0], ids[1]));
        }
        this.unavailable = why;
    }

    /** Why desktop IMAP cannot be served here, if it cannot. */
    Optional<String> unavailable() {
        return unavailable;
    }

    /** The server's settings: everything it needs comes from here, nothing from /etc. */
    static String config(Path home, long uid, long gid) {
        return String.join("\n",
                "# Written by the mail app at each start (ImapBridge): Dovecot's imap, run per session, preauthenticated.",
                "base_dir = " + home.resolve("run"),
                "log_path = /dev/stderr",
                "info_log_path = /dev/null",
                "mail_uid = " + uid,
                "mail_gid = " + gid,
                "first_valid_uid = " + uid,
                "first_valid_gid = " + gid,
                "stats_writer_socket_path =",
                // HOME is the persona's Maildir; Dovecot's index and UID lists are kept out of it.
                "mail_location = maildir:~:INDEX=" + home.resolve("index") + "/%u:CONTROL=" + home.resolve("control") + "/%u",
                "namespace inbox {",
                "  inbox = yes",
                "  separator = /",
                "  mailbox Sent {\n    special_use = \\Sent\n    auto = subscribe\n  }",
                "  mailbox Drafts {\n    special_use = \\Drafts\n    auto = subscribe\n  }",
                "  mailbox Trash {\n    special_use = \\Trash\n    auto = subscribe\n  }",
                "  mailbox Archive {\n    special_use = \\Archive\n    auto = subscribe\n  }",
                "  mailbox Requests {\n    auto = subscribe\n  }",
                "}",
                "");
    }

    /** This process's uid and gid, as Dovecot must run with them. */
    private static long[] ids() throws IOException {
        long[] out = {0, 0};
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("Uid:") || line.startsWith("Gid:")) {
                out[line.startsWith("Uid:") ? 0 : 1] = Long.parseLong(line.substring(4).strip().split("\\s+")[0]);
            }
        }
        return out;
    }

    /** Whether {@code persona} may open one more session; pair each true with {@link #ended}. */
    boolean begin(String persona) {
        AtomicInteger n = open.computeIfAbsent(persona, k -> new AtomicInteger());
        if (n.incrementAndGet() > MAX_SESSIONS) {
            n.decrementAndGet();
            return false;
        }
        return true;
    }

    void ended(String persona) {
        open.get(persona).decrementAndGet();
    }

    /** Serves one IMAP session for {@code persona} on {@code maildir}, until either side ends it. */
    void serve(String persona, Path maildir, InputStream in, OutputStream out) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(DOVECOT_IMAP.toString(), "-c", config.toString());
        pb.environment().clear();
        pb.environment().put("USER", persona);
        pb.environment().put("HOME", maildir.toString());
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.redirectError(ProcessBuilder.Redirect.INHERIT); // Dovecot's complaints go to the app's log
        Process imap = pb.start();
        LOG.log(Level.INFO, "IMAP session for {0} (pid {1})", persona, imap.pid());
        Thread up = Thread.ofVirtual().start(() -> {
            // The process's stdin is buffered: each command goes on at once, or the server never sees it.
            try (OutputStream toServer = imap.getOutputStream()) {
                byte[] buf = new byte[64 * 1024];
                for (int n; (n = in.read(buf)) > 0;) {
                    toServer.write(buf, 0, n);
                    toServer.flush();
                }
            } catch (IOException e) {
                // the client or the server went away; closing stdin ends the server's session
            }
        });
        try (InputStream fromServer = imap.getInputStream()) {
            byte[] buf = new byte[64 * 1024];
            for (int n; (n = fromServer.read(buf)) > 0;) {
                out.write(buf, 0, n);
            }
        } catch (IOException e) {
            // the server's output ended with it
        } finally {
            imap.destroy();
            up.interrupt();
        }
    }
}
