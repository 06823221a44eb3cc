package org.intrustd.hello;

import java.nio.file.Path;

import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.VirtualThreads;
import org.eclipse.jetty.util.component.LifeCycle;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.intrustd.core.app.AppSocket;

/**
 * The hello app: a small HTTP and WebSocket server on the Unix domain socket the appliance
 * daemon names in {@code INTRUSTD_APP_SOCKET}. It exists so the daemon's proxying (header
 * rewriting, streaming, upgrades, close codes) can be tested end to end.
 */
public final class HelloApp {
    private static final String SOCKET_ENV = "INTRUSTD_APP_SOCKET";
    static final int MAX_WEBSOCKET_MESSAGE = 16 * 1024 * 1024;

    private HelloApp() {
    }

    public static void main(String[] args) throws Exception {
        String socket = System.getenv(SOCKET_ENV);
        if (socket == null || socket.isBlank()) {
            System.err.println("hello: " + SOCKET_ENV + " is not set");
            System.exit(2);
        }
        Running app = start(Path.of(socket));
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "hello-shutdown"));
        // The daemon may wait for this line on a pipe, so it must not sit in a buffer.
        System.out.println("hello: listening on " + socket);
        System.out.flush();
        app.join();
    }

    /** Starts the app on {@code socket}; the returned handle stops it and removes the socket file. */
    public static Running start(Path socket) throws Exception {
        AppSocket.deleteStale(socket);

        // Selectors stay on platform threads; Jetty runs the blocking handlers on virtual threads.
        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("hello");
        threads.setVirtualThreadsExecutor(VirtualThreads.getNamedVirtualThreadsExecutor("hello-vt"));
        Server server = new Server(threads);

        UnixDomainServerConnector connector = new UnixDomainServerConnector(server, new HttpConnectionFactory());
        // Jetty deletes this file again when the connector stops.
        connector.setUnixDomainPath(socket);
        server.addConnector(connector);

        WebSocketUpgradeHandler webSockets = WebSocketUpgradeHandler.from(server, container -> {
            container.setMaxTextMessageSize(MAX_WEBSOCKET_MESSAGE);
            container.setMaxBinaryMessageSize(MAX_WEBSOCKET_MESSAGE);
            // A peer may send a whole message as one frame, so frames get the same limit.
            container.setMaxFrameSize(MAX_WEBSOCKET_MESSAGE);
            container.addMapping("/ws", (request, response, callback) -> new EchoSocket());
        });
        webSockets.setHandler(new HelloHandler());
        server.setHandler(webSockets);
        // Jetty's own error responses (unparsable query, handler failure) use the same problem format.
        server.setErrorHandler((request, response, callback) -> {
            HelloHandler.problem(response, callback, response.getStatus(), "The request could not be processed.");
            return true;
        });

        try {
            server.start();
        } catch (Exception e) {
            // A failed start leaves the thread pool running, which would keep the JVM alive.
            server.stop();
            throw e;
        }
        return new Running(server);
    }

    /** A started app. */
    public static final class Running implements AutoCloseable {
        private final Server server;

        private Running(Server server) {
            this.server = server;
        }

        /** Blocks until the server has stopped. */
        public void join() throws InterruptedException {
            server.join();
        }

        /** Stops the server; stopping the connector removes the socket file. */
        @Override
        public void close() {
            LifeCycle.stop(server);
        }
    }
}
