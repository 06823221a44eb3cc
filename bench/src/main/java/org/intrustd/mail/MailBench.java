package org.intrustd.mail;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * The mailbox, end to end in one JVM (not JMH): how many messages a second one mailbox takes
 * (MIME read, synced file, index and full-text rows), against the floor of the same messages
 * written, synced and renamed into a bare Maildir with no index; and how long a search takes
 * in a mailbox of {@code big} messages against one of {@code small}.
 * <p>
 * {@code java -cp 'bench/target/lib/*' org.intrustd.mail.MailBench [big=100000] [small=1000] [ingested=2000]}
 */
public final class MailBench {
    /**
     * A vocabulary of 20,000 made-up words, drawn with Zipf's law (s = 1.07, as in English text):
     * a few words are in every message and most in few, so a search matches what it would in mail.
     */
    private static final String[] WORDS = vocabulary(20_000);
    private static final double[] CUMULATIVE = zipf(WORDS.length, 1.07);

    private static String[] vocabulary(int n) {
        String[] syllables = "ka lo mi re su ta ne vo pi da ri ko lu se ma te no bi fa gu".split(" ");
        String[] out = new String[n];
        for (int i = 0; i < n; i++) {
            StringBuilder w = new StringBuilder();
            for (int k = i + 1; k > 0; k /= syllables.length) {
                w.append(syllables[k % syllables.length]);
            }
            out[i] = w.toString();
        }
        return out;
    }

    private static double[] zipf(int n, double s) {
        double[] c = new double[n];
        double total = 0;
        for (int k = 0; k < n; k++) {
            total += 1 / Math.pow(k + 1, s);
            c[k] = total;
        }
        for (int k = 0; k < n; k++) {
            c[k] /= total;
        }
        return c;
    }

    private static String word(SplittableRandom r) {
        int i = Arrays.binarySearch(CUMULATIVE, r.nextDouble());
        return WORDS[Math.min(WORDS.length - 1, i < 0 ? -i - 1 : i)];
    }

    private MailBench() {
    }

    public static void main(String[] args) throws Exception {
        int big = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        int small = args.length > 1 ? Integer.parseInt(args[1]) : 1_000;
        int ingested = args.length > 2 ? Integer.parseInt(args[2]) : 2_000;
        Path dir = Files.createTempDirectory("mailbench");
        try {
            ingest(dir.resolve("ingest"), ingested);
            search(dir, small, big);
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** A plausible message of a few KiB: headers, a subject and paragraphs drawn from {@link #WORDS}. */
    static byte[] message(SplittableRandom r, int n) {
        StringBuilder b = new StringBuilder();
        b.append("From: Person ").append(r.nextInt(500)).append(" <p").append(r.nextInt(500)).append("@example.org>\r\n");
        b.append("To: alice@example.org\r\nSubject: ").append(words(r, 3 + r.nextInt(5))).append(" ").append(n).append("\r\n");
        b.append("Message-ID: <m").append(n).append("@bench>\r\nDate: Thu, 03 Dec 2026 10:00:00 +0000\r\n");
        b.append("Content-Type: text/plain; charset=utf-8\r\n\r\n");
        for (int p = 0, paragraphs = 2 + r.nextInt(6); p < paragraphs; p++) {
            b.append(words(r, 30 + r.nextInt(60))).append(".\r\n\r\n");
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static String words(SplittableRandom r, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "" : " ").append(word(r));
        }
        return b.toString();
    }

    private static void ingest(Path dir, int n) throws IOException {
        SplittableRandom r = new SplittableRandom(1);
        List<byte[]> messages = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            messages.add(message(r, i));
        }
        // Baseline: the Maildir floor, each message written, synced and renamed into new/.
        Path bare = Files.createDirectories(dir.resolve("bare"));
        Files.createDirectories(bare.resolve("tmp"));
        Files.createDirectories(bare.resolve("new"));
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            Path tmp = bare.resolve("tmp").resolve("m" + i);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap(messages.get(i)));
                ch.force(true);
            }
            Files.move(tmp, bare.resolve("new").resolve("m" + i));
        }
        double floor = n / ((System.nanoTime() - t0) / 1e9);
        try (MailStore store = MailStore.open(dir.resolve("store"))) {
            store.ensureMailbox("alice");
            long t1 = System.nanoTime();
            for (byte[] m : messages) {
                Path f = store.tempFile("alice");
                try (OutputStream out = Files.newOutputStream(f)) {
                    out.write(m);
                }
                store.add("alice", MailStore.Folder.INBOX, f, EnumSet.noneOf(MailStore.Flag.class), Optional.empty());
            }
            double ours = n / ((System.nanoTime() - t1) / 1e9);
            System.out.printf("ingest %d messages into one mailbox: %.0f msg/s; bare Maildir (write, fsync, rename) %.0f msg/s;"
                    + " ratio ours/bare %.2f%n", n, ours, floor, ours / floor);
        }
    }

    /** Fills a mailbox fast (the index only: the files are written unsynced), then times searches. */
    private static void search(Path dir, int small, int big) throws IOException {
        double[] smallMs = searchLatencies(dir.resolve("small"), small);
        double[] bigMs = searchLatencies(dir.resolve("big"), big);
        System.out.printf("search, median / p99 over %d queries: %d messages %.2f / %.2f ms; %d messages %.2f / %.2f ms;"
                + " ratio big/small %.2f (median)%n", smallMs.length, small, median(smallMs), p99(smallMs), big, median(bigMs),
                p99(bigMs), median(bigMs) / median(smallMs));
    }

    private static double[] searchLatencies(Path dir, int n) throws IOException {
        SplittableRandom r = new SplittableRandom(2);
        try (MailStore store = MailStore.open(dir)) {
            store.ensureMailbox("alice");
            long t0 = System.nanoTime();
            store.bulk(() -> {
                for (int i = 0; i < n; i++) {
                    Path f = store.tempFile("alice");
                    Files.write(f, message(r, i));
                    store.add("alice", MailStore.Folder.INBOX, f, EnumSet.noneOf(MailStore.Flag.class), Optional.empty());
                }
            });
            System.out.printf("  filled %d messages in %.1f s%n", n, (System.nanoTime() - t0) / 1e9);
            // Common, middling and rare words (by rank), two words together, and a prefix as typed.
            String[] queries = {WORDS[20], WORDS[300], WORDS[3000], WORDS[150] + " " + WORDS[900], WORDS[5000],
                WORDS[700].substring(0, 3)};
            for (String q : queries) { // warm the page cache and the statements
                store.list("alice", Optional.empty(), Optional.of(q), 0, 50);
            }
            double[] ms = new double[queries.length * 34];
            double[][] byQuery = new double[queries.length][ms.length / queries.length];
            for (int i = 0; i < ms.length; i++) {
                long s = System.nanoTime();
                store.list("alice", Optional.of(MailStore.Folder.INBOX), Optional.of(queries[i % queries.length]), 0, 50);
                ms[i] = (System.nanoTime() - s) / 1e6;
                byQuery[i % queries.length][i / queries.length] = ms[i];
            }
            StringBuilder each = new StringBuilder("  per query (median ms):");
            for (int q = 0; q < queries.length; q++) {
                each.append(String.format(" '%s' %.2f;", queries[q], median(byQuery[q])));
            }
            System.out.println(each);
            return ms;
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double p99(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[(int) Math.ceil(s.length * 0.99) - 1];
    }
}
