package org.intrustd.backups;

import java.nio.file.Path;
import org.eclipse.jetty.server.Server;
import org.intrustd.appkit.AppServer;

/**
 * The backups app: wiring. It serves its API on the Unix socket the daemon names in
 * {@code INTRUSTD_APP_SOCKET} and keeps repositories in {@code INTRUSTD_APP_DATA} (docs/backups.md).
 */
public final class BackupsApp {
    private BackupsApp() {
    }

    public static void main(String[] args) throws Exception {
        String socket = System.getenv("INTRUSTD_APP_SOCKET");
        String data = System.getenv("INTRUSTD_APP_DATA");
        if (socket == null || socket.isBlank() || data == null || data.isBlank()) {
            System.err.println("backups: INTRUSTD_APP_SOCKET and INTRUSTD_APP_DATA must be set (the daemon sets them)");
            System.exit(2);
        }
        Server server = start(Path.of(socket), Path.of(data));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                server.stop();
            } catch (Exception e) {
                // stopping anyway
            }
        }, "backups-shutdown"));
        System.out.println("backups: listening on " + socket);
        System.out.flush();
        server.join();
    }

    /** Serves the repositories in {@code data} on {@code socket}. */
    public static Server start(Path socket, Path data) throws Exception {
        return AppServer.start("backups", socket, new BackupsApi(new Spaces(data)));
    }
}
