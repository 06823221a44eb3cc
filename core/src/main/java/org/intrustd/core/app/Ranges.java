package org.intrustd.core.app;

/**
 * A {@code Range: bytes=...} header against a file of known size (RFC 9110 §14). One range
 * is served as asked; several ranges, or a header we do not understand, get the whole file,
 * which the RFC allows; a range wholly past the end is unsatisfiable (416). Used by apps that
 * serve files (photos, backups).
 */
public final class Ranges {
    public sealed interface Answer permits Whole, Part, Unsatisfiable {
    }

    public record Whole() implements Answer {
    }

    /** Bytes {@code from} to {@code to}, inclusive. */
    public record Part(long from, long to) implements Answer {
    }

    public record Unsatisfiable() implements Answer {
    }

    private Ranges() {
    }

    public static Answer parse(String header, long size) {
        String h = header.strip();
        if (!h.regionMatches(true, 0, "bytes=", 0, 6) || h.indexOf(',') >= 0) {
            return new Whole();
        }
        String spec = h.substring(6).strip();
        int dash = spec.indexOf('-');
        if (dash < 0 || spec.length() > 40) {
            return new Whole();
        }
        String a = spec.substring(0, dash).strip();
        String b = spec.substring(dash + 1).strip();
        try {
            if (a.isEmpty()) {
                // The last b bytes.
                long suffix = Long.parseLong(b);
                if (suffix <= 0 || size == 0) {
                    return new Unsatisfiable();
                }
                return new Part(Math.max(0, size - suffix), size - 1);
            }
            long from = Long.parseLong(a);
            long to = b.isEmpty() ? size - 1 : Long.parseLong(b);
            if (from >= size) {
                return new Unsatisfiable();
            }
            if (from < 0 || to < from) {
                return new Whole();
            }
            return new Part(from, Math.min(to, size - 1));
        } catch (NumberFormatException e) {
            return new Whole();
        }
    }
}
