package org.intrustd.backup;

import java.nio.ByteBuffer;

/**
 * A direct buffer a thread reuses, grown when something bigger comes: a restore reads packs and
 * decompresses blobs into the same native memory again and again, with no array to allocate
 * (and zero) and no copy between the heap and the kernel or native code.
 */
final class DirectBuffer {
    private ByteBuffer buffer = ByteBuffer.allocateDirect(0);

    /** The buffer, at least {@code n} bytes, position 0 and limit {@code n}; its old contents are gone when it grows. */
    ByteBuffer atLeast(int n) {
        if (buffer.capacity() < n) {
            // Some room above the first size asked: the next pack part or blob is rarely the same size.
            buffer = ByteBuffer.allocateDirect((int) Math.min(Integer.MAX_VALUE - 8, n + (n >> 3)));
        }
        return buffer.clear().limit(n);
    }
}
