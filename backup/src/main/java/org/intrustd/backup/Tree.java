package org.intrustd.backup;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * A directory as stored: its entries sorted by name, as a JSON tree blob. Records keep their
 * fields in declaration order and nulls are left out, so the same directory always encodes
 * to the same bytes, and an unchanged directory is one blob stored once.
 */
public record Tree(List<Node> nodes) {
    /**
     * One entry. {@code mtime} and {@code ctime} are nanoseconds since the epoch; {@code mode}
     * the Unix mode bits (permissions, setuid…); {@code ctime}, {@code inode} and
     * {@code device} are only for telling whether a file changed since the last backup.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Node(String name, String type, int mode, int uid, int gid, long mtime, Long ctime, Long size,
            List<String> content, String subtree, String target, Long inode, Long device) {
        public static final String FILE = "file";
        public static final String DIR = "dir";
        public static final String SYMLINK = "symlink";

        @JsonIgnore
        public boolean isFile() {
            return FILE.equals(type);
        }

        @JsonIgnore
        public boolean isDir() {
            return DIR.equals(type);
        }
    }
}
