package org.intrustd.backup;

import java.util.Arrays;
import java.util.HexFormat;

/** A blob's 32-byte id (HMAC-SHA256 of its plaintext), shown as 64 hex digits. */
public record BlobId(byte[] bytes) implements Comparable<BlobId> {
    public BlobId {
        if (bytes.length != 32) {
            throw new IllegalArgumentException("a blob id is 32 bytes");
        }
    }

    public static BlobId parse(String hex) {
        if (hex.length() != 64) {
            throw new BackupException.Corrupt("a blob id is 64 hex digits: " + hex);
        }
        try {
            return new BlobId(HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException e) {
            throw new BackupException.Corrupt("a blob id is 64 hex digits: " + hex);
        }
    }

    public String hex() {
        return HexFormat.of().formatHex(bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BlobId b && Arrays.equals(bytes, b.bytes);
    }

    @Override
    public int hashCode() {
        // The bytes are a MAC output: any four of them are as good a hash as any.
        return (bytes[0] & 0xFF) << 24 | (bytes[1] & 0xFF) << 16 | (bytes[2] & 0xFF) << 8 | (bytes[3] & 0xFF);
    }

    @Override
    public int compareTo(BlobId o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public String toString() {
        return hex();
    }
}
