package org.intrustd.appkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.HttpStream;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.FutureCallback;

/**
 * A raw byte stream over an HTTP/1.1 upgrade ({@code Connection: Upgrade}, {@code Upgrade:
 * <protocol>}, answered {@code 101}): how an app speaks a protocol that is not HTTP, such as IMAP,
 * through the daemon and the link, which carry upgraded exchanges as they carry WebSockets
 * (docs/spec/channels.md). The session runs on a virtual thread with blocking streams.
 */
public final class Tunnel {
    /** What runs over the tunnel; the tunnel closes when it returns. */
    @FunctionalInterface
    public interface Session {
        void run(InputStream in, OutputStream out) throws IOException;
    }

    /** A session may sit idle this long (an IMAP client's IDLE renews itself every 29 minutes). */
    static final Duration IDLE = Duration.ofMinutes(35);

    private Tunnel() {
    }

    /** Whether {@code rq} asks to switch to {@code protocol}. */
    public static boolean asked(Request rq, String protocol) {
        String upgrade = rq.getHeaders().get(HttpHeader.UPGRADE);
        String connection = rq.getHeaders().get(HttpHeader.CONNECTION);
        return upgrade != null && upgrade.strip().equalsIgnoreCase(protocol) && connection != null
                && connection.toLowerCase(Locale.ROOT).contains("upgrade");
    }

    /** Answers {@code 101} to {@code rq} (which {@link #asked} for {@code protocol}) and runs {@code session} on the connection. */
    public static void accept(Request rq, Response rs, Callback cb, String protocol, Session session) {
        EndPoint endPoint = rq.getConnectionMetaData().getConnection().getEndPoint();
        rs.setStatus(101);
        rs.getHeaders().put(HttpHeader.UPGRADE, protocol);
        rs.getHeaders().put(HttpHeader.CONNECTION, "Upgrade");
        // Jetty hands the endpoint to this connection once the 101 is written.
        rq.setAttribute(HttpStream.UPGRADE_CONNECTION_ATTRIBUTE, new Raw(endPoint, session));
        cb.succeeded();
    }

    /** The connection after the upgrade: bytes both ways, for the session's streams. */
    private static final class Raw extends AbstractConnection implements Connection.UpgradeTo {
        private final Session session;
        private ByteBuffer early = BufferUtil.EMPTY_BUFFER; // what came after the request head, before the switch

        Raw(EndPoint endPoint, Session session) {
            super(endPoint, Runnable::run);
            this.session = session;
        }

        @Override
        public void onUpgradeTo(ByteBuffer buffer) {
            early = BufferUtil.copy(buffer);
        }

        @Override
        public void onOpen() {
            super.onOpen();
            getEndPoint().setIdleTimeout(IDLE.toMillis());
            Thread.ofVirtual().name("tunnel").start(() -> {
                try (InputStream in = new In(); OutputStream out = new Out()) {
                    session.run(in, out);
                } catch (IOException e) {
                    // the client went away, or the session failed: either way the tunnel ends
                } finally {
                    getEndPoint().close();
                }
            });
        }

        @Override
        public void onFillable() {
            // Reads are made by the session's thread (In), not on Jetty's events.
        }

        private final class In extends InputStream {
            private final ByteBuffer buffer = BufferUtil.allocate(64 * 1024);

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (len == 0) {
                    return 0;
                }
                if (early.hasRemaining()) {
                    int n = Math.min(len, early.remaining());
                    early.get(b, off, n);
                    return n;
                }
                while (!buffer.hasRemaining()) {
                    BufferUtil.clear(buffer);
                    int filled = getEndPoint().fill(buffer);
                    if (filled < 0) {
                        return -1;
                    }
                    if (filled == 0) {
                        FutureCallback readable = new FutureCallback();
                        getEndPoint().fillInterested(readable);
                        await(readable);
                    }
                }
                int n = Math.min(len, buffer.remaining());
                buffer.get(b, off, n);
                return n;
            }
        }

        private final class Out extends OutputStream {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                FutureCallback written = new FutureCallback();
                getEndPoint().write(written, ByteBuffer.wrap(b, off, len));
                await(written);
            }
        }

        private static void await(FutureCallback callback) throws IOException {
            try {
                callback.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted");
            } catch (ExecutionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }
    }
}
