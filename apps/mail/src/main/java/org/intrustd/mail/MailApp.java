package org.intrustd.mail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumSet;
import java.util.Optional;
import org.eclipse.jetty.server.Server;
import org.intrustd.appkit.AppServer;

/**
 * The mail app: wiring. It serves on the Unix socket the daemon names in
 * {@code INTRUSTD_APP_SOCKET}, keeps mailboxes in {@code INTRUSTD_APP_DATA}, and reaches other
 * appliances through {@code INTRUSTD_DAEMON_SOCKET} (docs/mail.md).
 */
public final class MailApp implements AutoCloseable {
    private final MailStore store;
    private final Inbound inbound;
    private final Outbox outbox;
    private final External external;
    private final Server server;

    private MailApp(MailStore store, Inbound inbound, Outbox outbox, External external, Server server) {
        this.store = store;
        this.inbound = inbound;
        this.outbox = outbox;
        this.external = external;
        this.server = server;
    }

    public static void main(String[] args) throws Exception {
        String socket = System.getenv("INTRUSTD_APP_SOCKET");
        String data = System.getenv("INTRUSTD_APP_DATA");
        String daemon = System.getenv("INTRUSTD_DAEMON_SOCKET");
        if (blank(socket) || blank(data) || blank(daemon)) {
            System.err.println("mail: INTRUSTD_APP_SOCKET, INTRUSTD_APP_DATA and INTRUSTD_DAEMON_SOCKET must be set (the daemon sets them)");
            System.exit(2);
        }
        MailApp app = start(Path.of(socket), Path.of(data), new Transport.ThroughDaemon(Path.of(daemon)),
                new Directory.ThroughDaemon(Path.of(daemon)), schedule(),
                External.proxyFromEnvironment());
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "mail-shutdown"));
        System.out.println("mail: listening on " + socket);
        System.out.flush();
        app.server.join();
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }

    /** The retry timing, from the environment where set (seconds): for tests and impatient owners. */
    private static Outbox.Schedule schedule() {
        Outbox.Schedule d = Outbox.Schedule.DEFAULT;
        return new Outbox.Schedule(seconds("INTRUSTD_MAIL_RETRY_FIRST", d.first()), seconds("INTRUSTD_MAIL_RETRY_LONGEST", d.longest()),
                seconds("INTRUSTD_MAIL_EXPIRY", d.expiry()));
    }

    private static java.time.Duration seconds(String name, java.time.Duration otherwise) {
        String v = System.getenv(name);
        if (blank(v)) {
            return otherwise;
        }
        try {
            return java.time.Duration.ofSeconds(Long.parseLong(v.strip()));
        } catch (NumberFormatException e) {
            System.err.println("mail: " + name + " is a number of seconds; using " + otherwise.toSeconds());
            return otherwise;
        }
    }

    /**
     * Serves the mailboxes in {@code data} on {@code socket}, delivering to other appliances
     * through {@code appliances} and to ordinary addresses through each persona's external
     * account (reached through {@code proxy}, if given).
     */
    static MailApp start(Path socket, Path data, Transport appliances, Directory directory, Outbox.Schedule schedule,
            Optional<java.net.URI> proxy) throws Exception {
        Files.createDirectories(data);
        MailStore store = MailStore.open(data);
        Inbound inbound = new Inbound(data, store, directory, Clock.systemUTC());
        Accounts accounts = new Accounts(data);
        External external = new External(data, accounts, store, proxy);
        MailApi[] api = new MailApi[1];
        Outbox outbox = new Outbox(data, new Transport.Routes(appliances, external), (persona, message, recipients, reason) -> {
            var self = api[0].self().orElseThrow(() -> new IOException("this appliance's ID is not known yet"));
            Path file = store.tempFile(persona);
            try (OutputStream out = Files.newOutputStream(file)) {
                Composer.bounce(self, MailAddress.of(persona, self), message, recipients, reason, out);
            }
            store.add(persona, MailStore.Folder.INBOX, file, EnumSet.noneOf(MailStore.Flag.class),
                    Optional.of("postmaster@" + MailAddress.domain(self)));
        }, schedule, Clock.systemUTC());
        api[0] = new MailApi(data, store, inbound, outbox, accounts, external, directory);
        Server server = AppServer.start("mail", socket, api[0]);
        outbox.start();
        external.start();
        return new MailApp(store, inbound, outbox, external, server);
    }

    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            // stopping anyway
        }
        outbox.close();
        external.close();
        inbound.close();
        store.close();
    }
}
