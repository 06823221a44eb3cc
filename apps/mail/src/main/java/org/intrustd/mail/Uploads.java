package org.intrustd.mail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Attachments uploaded for a message being written: each streamed to a file of its own (never
 * held in memory), named by an id, kept for a day or until the message that names it is sent.
 */
final class Uploads {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{22}");
    private static final Pattern TYPE = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]{0,126}/[a-zA-Z0-9][a-zA-Z0-9!#$&^_.+-]{0,126}");
    private static final long KEPT_MILLIS = 24L * 3600 * 1000;
    /** All of one message's attachments together, at most: what a recipient takes, less room for the text and encoding. */
    static final long MAX_TOTAL = 112L << 20;

    /** An uploaded file: its name for the recipient, its type and size, and where it is. */
    record Upload(String id, String filename, String contentType, long size, Path file) {
    }

    /** An upload past {@link #MAX_TOTAL}: 413. */
    static final class TooLarge extends IOException {
        TooLarge(String detail) {
            super(detail);
        }
    }

    private final Path dir;

    Uploads(Path data) throws IOException {
        this.dir = data.resolve("uploads");
        Files.createDirectories(dir);
        expire();
    }

    private Path folder(String persona) throws IOException {
        if (!MailStore.validPersona(persona)) {
            throw new IllegalArgumentException("not a persona name: " + persona);
        }
        return Files.createDirectories(dir.resolve(persona));
    }

    /** Streams {@code in} to a new upload of {@code persona}'s, refusing more than {@link #MAX_TOTAL} bytes. */
    Upload put(String persona, String filename, String contentType, InputStream in) throws IOException {
        return put(persona, filename, contentType, out -> {
            byte[] buf = new byte[64 * 1024];
            long size = 0;
            for (int n; (n = in.read(buf)) > 0;) {
                size += n;
                if (size > MAX_TOTAL) {
                    throw new TooLarge("an attachment is at most " + (MAX_TOTAL >> 20) + " MiB");
                }
                out.write(buf, 0, n);
            }
        });
    }

    /** Writes the bytes of an upload. */
    @FunctionalInterface
    interface Writer {
        void writeTo(OutputStream out) throws IOException;
    }

    /** A new upload of {@code persona}'s with what {@code content} writes (a part of a stored message, say). */
    Upload put(String persona, String filename, String contentType, Writer content) throws IOException {
        String name = cleanName(filename);
        String type = contentType == null || !TYPE.matcher(contentType.strip()).matches() ? "application/octet-stream"
                : contentType.strip().toLowerCase(java.util.Locale.ROOT);
        expire();
        String id = DeliveryId.next();
        Path file = folder(persona).resolve(id);
        try (OutputStream out = Files.newOutputStream(file)) {
            content.writeTo(out);
        } catch (IOException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        long size = Files.size(file);
        Files.write(folder(persona).resolve(id + ".json"),
                JSON.writeValueAsBytes(JSON.createObjectNode().put("filename", name).put("contentType", type)));
        return new Upload(id, name, type, size, file);
    }

    /** {@code persona}'s upload {@code id}. */
    Upload get(String persona, String id) throws IOException {
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("not an upload id: " + Inbound.printable(id));
        }
        Path file = folder(persona).resolve(id);
        Path meta = folder(persona).resolve(id + ".json");
        if (!Files.exists(file) || !Files.exists(meta)) {
            throw new NoSuchFileException("no upload " + id + " (uploads are kept for a day)");
        }
        JsonNode m = JSON.readTree(meta.toFile());
        return new Upload(id, m.path("filename").asText("attachment"), m.path("contentType").asText("application/octet-stream"),
                Files.size(file), file);
    }

    void remove(String persona, String id) throws IOException {
        Path f = folder(persona);
        Files.deleteIfExists(f.resolve(id));
        Files.deleteIfExists(f.resolve(id + ".json"));
    }

    /** A file name as a recipient's mail client will see it: no path, no control characters, at most 200 characters. */
    static String cleanName(String filename) {
        String n = filename == null ? "" : filename;
        n = n.substring(Math.max(n.lastIndexOf('/'), n.lastIndexOf('\\')) + 1).replaceAll("\\p{Cntrl}", "").strip();
        if (n.isEmpty() || n.equals(".") || n.equals("..")) {
            n = "attachment";
        }
        return n.length() > 200 ? n.substring(0, 200) : n;
    }

    /** Uploads older than a day go: a message was abandoned. */
    private void expire() throws IOException {
        long before = System.currentTimeMillis() - KEPT_MILLIS;
        try (DirectoryStream<Path> personas = Files.newDirectoryStream(dir)) {
            for (Path p : personas) {
                try (DirectoryStream<Path> files = Files.newDirectoryStream(p)) {
                    for (Path f : files) {
                        if (Files.getLastModifiedTime(f).toMillis() < before) {
                            Files.deleteIfExists(f);
                        }
                    }
                }
            }
        }
    }
}
