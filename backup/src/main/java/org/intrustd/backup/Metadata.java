package org.intrustd.backup;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * Sets a restored entry's owner and modification time, without following links. Through the C
 * library's {@code lchown} and {@code utimensat} (JNA, direct calls) where it loads: the JDK
 * takes six system calls for what these do in two, because it opens the file to change its
 * times, reads its attributes first to keep its access time, and sets owner and group one at a
 * time; a restore of 12,000 files made 50,000 more calls. Elsewhere, through the JDK.
 */
final class Metadata {
    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    /** {@code tv_nsec} meaning "leave this time as it is" (the access time). */
    private static final long UTIME_OMIT = (1L << 30) - 2;
    private static final boolean NATIVE = load();

    private Metadata() {
    }

    private static boolean load() {
        if (Boolean.getBoolean("intrustd.backup.jdkMetadata") || !Platform.isLinux() || !Platform.is64Bit()) {
            return false;
        }
        try {
            Native.register(Metadata.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
            return true;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }

    private static native int lchown(byte[] path, int uid, int gid) throws LastErrorException;

    /** {@code times}: two {@code struct timespec} (access, modification), each seconds then nanoseconds. */
    private static native int utimensat(int dirfd, byte[] path, long[] times, int flags) throws LastErrorException;

    /** Makes {@code uid}:{@code gid} the owner of {@code p} (a link itself, not what it names). */
    static void owner(Path p, int uid, int gid) throws IOException {
        if (!NATIVE) {
            Files.setAttribute(p, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(p, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
            return;
        }
        try {
            lchown(cString(p), uid, gid);
        } catch (LastErrorException e) {
            throw failure(p, "cannot change the owner", e);
        }
    }

    /** Sets the modification time of {@code p} (a link itself, not what it names); the access time stays. */
    static void modified(Path p, long epochNanos) throws IOException {
        if (!NATIVE) {
            Files.getFileAttributeView(p, BasicFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
                    .setTimes(FileTime.from(epochNanos, TimeUnit.NANOSECONDS), null, null);
            return;
        }
        long[] times = {0, UTIME_OMIT, Math.floorDiv(epochNanos, 1_000_000_000L), Math.floorMod(epochNanos, 1_000_000_000L)};
        try {
            utimensat(AT_FDCWD, cString(p), times, AT_SYMLINK_NOFOLLOW);
        } catch (LastErrorException e) {
            throw failure(p, "cannot set the modification time", e);
        }
    }

    private static IOException failure(Path p, String what, LastErrorException e) {
        return new FileSystemException(p.toString(), null, what + " (errno " + e.getErrorCode() + ")");
    }

    private static byte[] cString(Path p) {
        byte[] b = p.toString().getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(b, b.length + 1);
    }

    static boolean isNative() {
        return NATIVE;
    }
}
