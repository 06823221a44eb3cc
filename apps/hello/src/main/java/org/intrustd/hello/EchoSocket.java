package org.intrustd.hello;

import java.nio.ByteBuffer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

/**
 * WebSocket endpoint at {@code /ws}: echoes text as text and binary as binary. The text
 * {@code close:<code>:<reason>} closes the session with that code and reason instead, so tests
 * can check that close codes pass through the daemon; a code that may not be sent on the wire
 * (such as 1005) makes it an ordinary message.
 *
 * <p>It demands each frame only after the echo of the previous one is sent, so a peer that
 * sends but does not read cannot make the server queue without bound. It is public because
 * Jetty binds the listener methods through a public lookup.
 */
public final class EchoSocket implements Session.Listener {
    private static final Pattern CLOSE = Pattern.compile("close:([0-9]{1,4}):(.*)", Pattern.DOTALL);

    private Session session;

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        session.demand();
    }

    @Override
    public void onWebSocketText(String message) {
        Matcher close = CLOSE.matcher(message);
        int code = close.matches() ? Integer.parseInt(close.group(1)) : 0;
        if (sendable(code)) {
            // The peer's reply to our close frame is a frame like any other: demand it.
            session.close(code, close.group(2), demandNext());
        } else {
            session.sendText(message, demandNext());
        }
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        // The payload is Jetty's buffer until callback completes, so complete it only once sent.
        session.sendBinary(payload, Callback.from(() -> {
            callback.succeed();
            session.demand();
        }, callback::fail));
    }

    /** Without auto-demand Jetty leaves pings to the endpoint: answer, then read on. */
    @Override
    public void onWebSocketPing(ByteBuffer payload) {
        session.sendPong(payload, demandNext());
    }

    @Override
    public void onWebSocketPong(ByteBuffer payload) {
        session.demand();
    }

    /**
     * Close codes an endpoint may send (RFC 6455 section 7.4), as Jetty's core checks them; the
     * API's {@code StatusCode.isTransmittable} leaves out the application range 3000-4999.
     */
    private static boolean sendable(int code) {
        return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
    }

    private Callback demandNext() {
        // A failed send means the connection failed, and Jetty then closes the session itself.
        return Callback.from(session::demand, failure -> { });
    }
}
