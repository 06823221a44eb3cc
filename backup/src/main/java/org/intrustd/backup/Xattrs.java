package org.intrustd.backup;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;

/**
 * Extended attributes of the {@code user.} namespace (the ones Java reaches, and the ones
 * applications set: a download's origin, a desktop's tags, a checksum), kept in a tree node by
 * full name, values in base64url. Other namespaces ({@code security.}, ACLs in
 * {@code system.}) are left out. On a file system without them there are none.
 */
final class Xattrs {
    private static final String USER = "user.";

    private Xattrs() {
    }

    /** The attributes of {@code p}, sorted by name; null when it has none or they cannot be read. */
    static Map<String, String> read(Path p) {
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
                out.put(USER + name, Base64.getUrlEncoder().withoutPadding().encodeToString(java.util.Arrays.copyOf(value.array(),
                        value.position())));
            }
            return out;
        } catch (IOException | UnsupportedOperationException e) {
            return null; // not supported here, or gone since it was listed
        }
    }

    /** Sets {@code attrs} on {@code p}; a name outside {@code user.} or a value that is not base64url is refused as corrupt. */
    static void write(Path p, Map<String, String> attrs) throws IOException {
        UserDefinedFileAttributeView view = Files.getFileAttributeView(p, UserDefinedFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
        if (view == null) {
            throw new FileSystemException(p.toString(), null, "extended attributes are not supported here");
        }
        for (Map.Entry<String, String> a : attrs.entrySet()) {
            if (!a.getKey().startsWith(USER) || a.getKey().length() == USER.length() || a.getKey().indexOf('\0') >= 0) {
                throw new BackupException.Corrupt("a tree holds the extended attribute \"" + a.getKey() + "\", not one of user.*");
            }
            byte[] value;
            try {
                value = Base64.getUrlDecoder().decode(a.getValue());
            } catch (IllegalArgumentException e) {
                throw new BackupException.Corrupt("extended attribute " + a.getKey() + " is not base64url");
            }
            view.write(a.getKey().substring(USER.length()), ByteBuffer.wrap(value));
        }
    }
}
