package org.intrustd.backup;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Platform;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * Extended attributes, kept in a tree node by full name, values in base64url: {@code user.*}
 * (a download's origin, a desktop's tags), POSIX ACLs ({@code system.posix_acl_access} and
 * {@code system.posix_acl_default}, the kernel's binary form), and, where the reader can see
 * them, {@code security.*} (SELinux labels, file capabilities) and {@code trusted.*} (root only).
 * <p>
 * Through the C library's {@code llistxattr}/{@code lgetxattr}/{@code lsetxattr} (JNA, direct
 * calls: no open per file, and links are not followed); where it cannot be loaded, through the
 * JDK, which reaches {@code user.*} only. On a file system without them there are none.
 */
final class Xattrs {
    private static final String USER = "user.";
    private static final int ERANGE = 34;
    private static final int EPERM = 1;
    private static final int EACCES = 13;
    private static final int ENOTSUP = 95;
    private static final boolean NATIVE = load();

    private Xattrs() {
    }

    private static boolean load() {
        if (Boolean.getBoolean("intrustd.backup.jdkXattrs") || !Platform.isLinux()) {
            return false;
        }
        try {
            Native.register(Xattrs.class, NativeLibrary.getInstance(Platform.C_LIBRARY_NAME));
            return true;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }

    private static native NativeLong llistxattr(byte[] path, byte[] list, NativeLong size) throws LastErrorException;

    private static native NativeLong lgetxattr(byte[] path, byte[] name, byte[] value, NativeLong size) throws LastErrorException;

    private static native int lsetxattr(byte[] path, byte[] name, byte[] value, NativeLong size, int flags) throws LastErrorException;

    /** Whether a name is one a tree may hold (docs/spec/backup-repository.md, "xattrs"). */
    static boolean kept(String name) {
        return name.indexOf('\0') < 0 && (prefixed(name, USER) || prefixed(name, "security.") || prefixed(name, "trusted.")
                || name.equals("system.posix_acl_access") || name.equals("system.posix_acl_default"));
    }

    private static boolean prefixed(String name, String prefix) {
        return name.startsWith(prefix) && name.length() > prefix.length();
    }

    /** The attributes of {@code p}, sorted by name; null when it has none or they cannot be read. */
    static Map<String, String> read(Path p) {
        return NATIVE ? readNative(p) : readJdk(p);
    }

    private static Map<String, String> readNative(Path p) {
        byte[] path = cString(p.toString());
        try {
            byte[] list = new byte[256];
            long n;
            while (true) {
                try {
                    n = llistxattr(path, list, new NativeLong(list.length)).longValue();
                    break;
                } catch (LastErrorException e) {
                    if (e.getErrorCode() != ERANGE) {
                        return null; // not supported here, gone, or not ours to read
                    }
                    list = new byte[(int) Math.min(Integer.MAX_VALUE - 8, Math.max(list.length * 4L,
                            llistxattr(path, null, new NativeLong(0)).longValue()))];
                }
            }
            Map<String, String> out = null;
            int start = 0;
            for (int i = 0; i < n; i++) {
                if (list[i] != 0) {
                    continue;
                }
                String name = new String(list, start, i - start, StandardCharsets.UTF_8);
                start = i + 1;
                if (!kept(name)) {
                    continue;
                }
                byte[] value = get(path, cString(name));
                if (value != null) {
                    if (out == null) {
                        out = new TreeMap<>();
                    }
                    out.put(name, Base64.getUrlEncoder().withoutPadding().encodeToString(value));
                }
            }
            return out;
        } catch (LastErrorException e) {
            return null;
        }
    }

    /** One attribute's value; null when it went away since it was listed or is not ours to read. */
    private static byte[] get(byte[] path, byte[] name) {
        byte[] value = new byte[256];
        while (true) {
            try {
                long n = lgetxattr(path, name, value, new NativeLong(value.length)).longValue();
                return Arrays.copyOf(value, (int) n);
            } catch (LastErrorException e) {
                if (e.getErrorCode() != ERANGE) {
                    return null;
                }
                try {
                    value = new byte[(int) Math.max(value.length * 4L, lgetxattr(path, name, null, new NativeLong(0)).longValue())];
                } catch (LastErrorException gone) {
                    return null;
                }
            }
        }
    }

    private static Map<String, String> readJdk(Path p) {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (view == null) {
            return null;
        }
        try {
            Map<String, String> out = null;
            for (String name : view.list()) {
                ByteBuffer value = ByteBuffer.allocate(view.size(name));
                view.read(name, value);
                if (out == null) {
                    out = new TreeMap<>();
                }
                out.put(USER + name, Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(value.array(),
                        value.position())));
            }
            return out;
        } catch (IOException | UnsupportedOperationException e) {
            return null; // not supported here, or gone since it was listed
        }
    }

    /**
     * Sets {@code attrs} on {@code p}. A name a tree may not hold, or a value that is not
     * base64url, is refused as corrupt. {@code security.*} and {@code trusted.*} are set where
     * this process may (as root, usually) and otherwise left out without a word; a refused
     * {@code user.*} or ACL is an error.
     */
    static void write(Path p, Map<String, String> attrs) throws IOException {
        byte[] path = cString(p.toString());
        for (Map.Entry<String, String> a : attrs.entrySet()) {
            String name = a.getKey();
            if (!kept(name)) {
                throw new BackupException.Corrupt("a tree holds the extended attribute \"" + name + "\", which no file system keeps");
            }
            byte[] value;
            try {
                value = Base64.getUrlDecoder().decode(a.getValue());
            } catch (IllegalArgumentException e) {
                throw new BackupException.Corrupt("extended attribute " + name + " is not base64url");
            }
            boolean privileged = name.startsWith("security.") || name.startsWith("trusted.");
            if (NATIVE) {
                try {
                    lsetxattr(path, cString(name), value, new NativeLong(value.length), 0);
                } catch (LastErrorException e) {
                    int errno = e.getErrorCode();
                    if (privileged && (errno == EPERM || errno == EACCES || errno == ENOTSUP)) {
                        continue;
                    }
                    throw new FileSystemException(p.toString(), null, "cannot set extended attribute " + name + " (errno " + errno + ")");
                }
            } else if (name.startsWith(USER)) {
                UserDefinedFileAttributeView view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class,
                        LinkOption.NOFOLLOW_LINKS);
                if (view == null) {
                    throw new FileSystemException(p.toString(), null, "extended attributes are not supported here");
                }
                view.write(name.substring(USER.length()), ByteBuffer.wrap(value));
            } else if (!privileged) {
                throw new FileSystemException(p.toString(), null, "cannot set " + name + " without the C library");
            }
        }
    }

    private static byte[] cString(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return Arrays.copyOf(b, b.length + 1);
    }
}
