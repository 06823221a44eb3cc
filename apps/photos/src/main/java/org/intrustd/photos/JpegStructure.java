package org.intrustd.photos;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether a JPEG's primary image is whole: its marker segments and entropy-coded data run to
 * an end-of-image marker. A JPEG cut short (an upload that stopped, a bad copy) decodes into a
 * half-grey picture with no error from most decoders, so we look for the end ourselves. Inside
 * entropy-coded data a 0xFF byte is always followed by 0x00 or a restart marker, so the first
 * other marker found there is a real one. Data after the end-of-image marker (maker notes,
 * a second picture) is allowed.
 */
final class JpegStructure {
    private JpegStructure() {
    }

    static boolean complete(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return complete(in);
        }
    }

    static boolean complete(InputStream raw) throws IOException {
        Bytes in = new Bytes(raw);
        if (in.next() != 0xFF || in.next() != 0xD8) {
            return false;
        }
        while (true) {
            int b = in.next();
            if (b != 0xFF) {
                return false;
            }
            int marker;
            do {
                marker = in.next();
            } while (marker == 0xFF);
            if (marker < 0) {
                return false;
            }
            if (marker == 0xD9) {
                return true;
            }
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                continue;
            }
            int hi = in.next();
            int lo = in.next();
            if (lo < 0) {
                return false;
            }
            int length = (hi << 8) | lo;
            if (length < 2 || !in.skip(length - 2)) {
                return false;
            }
            if (marker == 0xDA) {
                // Entropy-coded data: runs until a marker that is neither a stuffed zero nor a restart.
                int next = skipScan(in);
                if (next < 0) {
                    return false;
                }
                if (next == 0xD9) {
                    return true;
                }
                in.unread(next);
            }
        }
    }

    /** Reads entropy-coded data up to the next real marker; returns that marker's code, or -1 at the end of input. */
    private static int skipScan(Bytes in) throws IOException {
        while (true) {
            // Most of a JPEG is entropy-coded data: look for 0xFF a buffer at a time.
            if (!in.skipToFF()) {
                return -1;
            }
            int m;
            do {
                m = in.next();
            } while (m == 0xFF);
            if (m < 0) {
                return -1;
            }
            if (m != 0x00 && (m < 0xD0 || m > 0xD7)) {
                return m;
            }
        }
    }

    /** A byte reader with its own buffer (a per-byte read on a stream is too slow for 20 MB files) and one byte of push-back as a marker. */
    private static final class Bytes {
        private static final java.lang.invoke.VarHandle LONGS =
                java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);
        private final InputStream in;
        private final byte[] buf = new byte[64 * 1024];
        private int pos;
        private int len;
        private int pushedMarker = -1;

        Bytes(InputStream in) {
            this.in = in;
        }

        /** Puts back a marker code so that the main loop reads 0xFF then {@code marker}. */
        void unread(int marker) {
            pushedMarker = marker;
        }

        int next() throws IOException {
            if (pushedMarker >= 0) {
                // The main loop first expects the 0xFF that introduced the marker.
                int m = pushedMarker;
                pushedMarker = -2 - m;
                return 0xFF;
            }
            if (pushedMarker <= -2) {
                int m = -2 - pushedMarker;
                pushedMarker = -1;
                return m;
            }
            if (pos == len) {
                len = in.read(buf);
                pos = 0;
                if (len <= 0) {
                    len = 0;
                    return -1;
                }
            }
            return buf[pos++] & 0xFF;
        }

        /** Consumes bytes up to and including the next 0xFF; false at the end of input. */
        boolean skipToFF() throws IOException {
            while (true) {
                byte[] b = buf;
                int end = len;
                int i = pos;
                // Eight bytes a step: a byte of ~x is zero where x has 0xFF, and the lowest flagged
                // byte of the zero-byte test is always a real one (borrows only flag bytes above it).
                for (; i + 8 <= end; i += 8) {
                    long x = ~(long) LONGS.get(b, i);
                    long zero = (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
                    if (zero != 0) {
                        pos = i + (Long.numberOfTrailingZeros(zero) >>> 3) + 1;
                        return true;
                    }
                }
                for (; i < end; i++) {
                    if (b[i] == (byte) 0xFF) {
                        pos = i + 1;
                        return true;
                    }
                }
                pos = len;
                if (next() < 0) {
                    return false;
                }
                if (buf[pos - 1] == (byte) 0xFF) {
                    return true;
                }
            }
        }

        boolean skip(long n) throws IOException {
            long left = n;
            long buffered = Math.min(left, len - pos);
            pos += (int) buffered;
            left -= buffered;
            while (left > 0) {
                long s = in.skip(left);
                if (s <= 0) {
                    if (in.read() < 0) {
                        return false;
                    }
                    s = 1;
                }
                left -= s;
            }
            return true;
        }
    }
}
