package org.intrustd.backup;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.Optional;

/**
 * Splits a stream into chunks with a {@link Chunker}. It holds one buffer of twice the
 * maximum chunk size, read in large blocks, and is reused for stream after stream
 * ({@link #reset}); each chunk comes out as its own array (it goes on to other threads).
 * Not thread-safe.
 */
public final class ChunkStream {
    private final Chunker chunker;
    private final byte[] buf;
    private InputStream in = InputStream.nullInputStream();
    private int start;
    private int end;
    private boolean eof;

    public ChunkStream(Chunker chunker) {
        this.chunker = chunker;
        this.buf = new byte[2 * chunker.params().max()];
    }

    /** Starts on another stream (the caller closes the last one). */
    public ChunkStream reset(InputStream stream) {
        in = stream;
        start = 0;
        end = 0;
        eof = false;
        return this;
    }

    /** The next chunk, or empty at the end of the stream. */
    public Optional<byte[]> next() throws IOException {
        int max = chunker.params().max();
        if (!eof && end - start < max) {
            // Keep what is left at the front and fill up.
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
            while (!eof && end < buf.length) {
                int n = in.read(buf, end, buf.length - end);
                if (n < 0) {
                    eof = true;
                } else {
                    end += n;
                }
            }
        }
        if (start == end) {
            return Optional.empty();
        }
        int length = chunker.cut(buf, start, end, eof);
        byte[] chunk = Arrays.copyOfRange(buf, start, start + length);
        start += length;
        return Optional.of(chunk);
    }
}
