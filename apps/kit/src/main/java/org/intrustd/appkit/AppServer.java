package org.intrustd.appkit;

import java.nio.file.Path;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.VirtualThreads;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.intrustd.core.app.AppSocket;

/**
 * An app's HTTP server on the Unix socket the daemon gives it: requests on virtual threads
 * (handlers block freely), no server version, and errors Jetty itself raises answered as
 * problem documents like the app's own.
 */
public final class AppServer {
    private AppServer() {
    }

    /** Starts serving {@code handler} on {@code socket} (a stale socket file from a killed run is removed first). */
    public static Server start(String name, Path socket, Handler handler) throws Exception {
        AppSocket.deleteStale(socket);
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName(name);
        threads.setVirtualThreadsExecutor(VirtualThreads.getNamedVirtualThreadsExecutor(name + "-vt"));
        Server server = new Server(threads);
        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server, new HttpConnectionFactory(http));
        connector.setUnixDomainPath(socket);
        server.addConnector(connector);
        server.setHandler(handler);
        server.setErrorHandler((request, response, callback) -> {
            Replies.problem(response, callback, response.getStatus(), "the request could not be processed");
            return true;
        });
        try {
            server.start();
        } catch (Exception e) {
            server.stop();
            throw e;
        }
        return server;
    }
}
