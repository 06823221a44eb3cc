package org.intrustd.backup;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A directory as stored: its entries sorted by name, as a JSON tree blob. Records keep their
 * fields in declaration order and nulls are left out, so the same directory always encodes
 * to the same bytes, and an unchanged directory is one blob stored once.
 * <p>
 * {@link #encode} and {@link #decode} go through Jackson's streaming API, not data binding:
 * every backup reads and writes hundreds of trees in a JVM that has just started, and data
 * binding's reflection made the first tree cost 190 ms and each later one 0.6 ms. The bytes
 * are the ones data binding writes (a test holds them equal).
 */
public record Tree(List<Node> nodes) {
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(8).build()).build();

    /** The tree's JSON, as stored in a tree blob. */
    public byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 + 160 * nodes.size());
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartObject();
            g.writeArrayFieldStart("nodes");
            for (Node n : nodes) {
                g.writeStartObject();
                string(g, "name", n.name());
                string(g, "type", n.type());
                g.writeNumberField("mode", n.mode());
                g.writeNumberField("uid", n.uid());
                g.writeNumberField("gid", n.gid());
                g.writeNumberField("mtime", n.mtime());
                number(g, "ctime", n.ctime());
                number(g, "size", n.size());
                if (n.content() != null) {
                    g.writeArrayFieldStart("content");
                    for (String id : n.content()) {
                        g.writeString(id);
                    }
                    g.writeEndArray();
                }
                string(g, "subtree", n.subtree());
                string(g, "target", n.target());
                number(g, "inode", n.inode());
                number(g, "device", n.device());
                if (n.xattrs() != null) {
                    g.writeObjectFieldStart("xattrs");
                    for (Map.Entry<String, String> x : n.xattrs().entrySet()) {
                        g.writeStringField(x.getKey(), x.getValue());
                    }
                    g.writeEndObject();
                }
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        return out.toByteArray();
    }

    private static void string(JsonGenerator g, String field, String value) throws IOException {
        if (value != null) {
            g.writeStringField(field, value);
        }
    }

    private static void number(JsonGenerator g, String field, Long value) throws IOException {
        if (value != null) {
            g.writeNumberField(field, value);
        }
    }

    /** A tree from its JSON; fields it does not know are skipped (a later writer may add some). */
    public static Tree decode(byte[] json) throws IOException {
        try (JsonParser p = FACTORY.createParser(json)) {
            expect(p.nextToken(), JsonToken.START_OBJECT);
            List<Node> nodes = null;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                if (p.currentName().equals("nodes")) {
                    expect(p.nextToken(), JsonToken.START_ARRAY);
                    nodes = new ArrayList<>();
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        nodes.add(node(p));
                    }
                    expect(p.currentToken(), JsonToken.END_ARRAY);
                } else {
                    p.nextToken();
                    p.skipChildren();
                }
            }
            expect(p.currentToken(), JsonToken.END_OBJECT);
            if (nodes == null || p.nextToken() != null) {
                throw new BackupException.Corrupt("no list of nodes, or bytes after it");
            }
            return new Tree(nodes);
        }
    }

    private static Node node(JsonParser p) throws IOException {
        String name = null;
        String type = null;
        String subtree = null;
        String target = null;
        Integer mode = null;
        Integer uid = null;
        Integer gid = null;
        Long mtime = null;
        Long ctime = null;
        Long size = null;
        Long inode = null;
        Long device = null;
        List<String> content = null;
        Map<String, String> xattrs = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            if (t == JsonToken.VALUE_NULL) {
                continue;
            }
            switch (field) {
                case "name" -> name = text(p, t);
                case "type" -> type = text(p, t);
                case "subtree" -> subtree = text(p, t);
                case "target" -> target = text(p, t);
                case "mode" -> mode = p.getIntValue();
                case "uid" -> uid = p.getIntValue();
                case "gid" -> gid = p.getIntValue();
                case "mtime" -> mtime = integer(p, t);
                case "ctime" -> ctime = integer(p, t);
                case "size" -> size = integer(p, t);
                case "inode" -> inode = integer(p, t);
                case "device" -> device = integer(p, t);
                case "content" -> {
                    expect(t, JsonToken.START_ARRAY);
                    content = new ArrayList<>();
                    for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                        content.add(text(p, e));
                    }
                }
                case "xattrs" -> {
                    expect(t, JsonToken.START_OBJECT);
                    xattrs = new TreeMap<>();
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String key = p.currentName();
                        xattrs.put(key, text(p, p.nextToken()));
                    }
                }
                default -> p.skipChildren();
            }
        }
        expect(p.currentToken(), JsonToken.END_OBJECT);
        if (name == null || type == null || mode == null || uid == null || gid == null || mtime == null) {
            throw new BackupException.Corrupt("a node lacks its name, type, mode, uid, gid or mtime");
        }
        return new Node(name, type, mode, uid, gid, mtime, ctime, size, content, subtree, target, inode, device, xattrs);
    }

    private static String text(JsonParser p, JsonToken t) throws IOException {
        expect(t, JsonToken.VALUE_STRING);
        return p.getText();
    }

    private static long integer(JsonParser p, JsonToken t) throws IOException {
        expect(t, JsonToken.VALUE_NUMBER_INT);
        return p.getLongValue();
    }

    private static void expect(JsonToken got, JsonToken wanted) {
        if (got != wanted) {
            throw new BackupException.Corrupt("expected " + wanted + ", found " + got);
        }
    }

    /**
     * One entry. {@code mtime} and {@code ctime} are nanoseconds since the epoch; {@code mode}
     * the Unix mode bits (permissions, setuid…); {@code ctime}, {@code inode} and
     * {@code device} are only for telling whether a file changed since the last backup;
     * {@code xattrs} are extended attributes, full name to value in base64url, sorted by name.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Node(String name, String type, int mode, int uid, int gid, long mtime, Long ctime, Long size,
            List<String> content, String subtree, String target, Long inode, Long device, Map<String, String> xattrs) {
        /** A node without extended attributes. */
        public Node(String name, String type, int mode, int uid, int gid, long mtime, Long ctime, Long size, List<String> content,
                String subtree, String target, Long inode, Long device) {
            this(name, type, mode, uid, gid, mtime, ctime, size, content, subtree, target, inode, device, null);
        }

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
