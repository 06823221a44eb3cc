package org.intrustd.backups;

import java.nio.file.Path;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.VirtualThreads;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.intrustd.core.app.AppSocket;

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
        Spaces spaces = new Spaces(data);
        AppSocket.deleteStale(socket);
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("backups");
        threads.setVirtualThreadsExecutor(VirtualThreads.getNamedVirtualThreadsExecutor("backups-vt"));
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server, new HttpConnectionFactory(http));
        connector.setUnixDomainPath(socket);
        server.addConnector(connector);
        server.setHandler(new BackupsApi(spaces));
        server.setErrorHandler((request, response, callback) -> {
            BackupsApi.problem(response, callback, response.getStatus(), "the request could not be processed");
            return true;
        });
        server.start();
        return server;
    }
}
