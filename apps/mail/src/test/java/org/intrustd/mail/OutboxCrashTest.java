package org.intrustd.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 at any point of the queue loses nothing: a child JVM queues messages (noting each one
 * its sender was told was sent) while its outbox delivers them (noting each delivery), and is
 * killed at random moments, again and again; at the end every message the sender was told of
 * has reached its recipient, and a repeated delivery carries the same id (so the recipient,
 * which keeps deliveries by id, stores it once). {@code -Dintrustd.mail.crashRounds=N} runs more.
 */
class OutboxCrashTest {
    static final int MESSAGES = 400;

    @TempDir
    Path tmp;

    @Test
    void noMessageTheSenderWasToldOfIsLostWhateverMomentTheAppIsKilled() throws Exception {
        int rounds = Integer.getInteger("intrustd.mail.crashRounds", 25);
        SplittableRandom random = new SplittableRandom();
        for (int round = 0; round < rounds; round++) {
            Process child = start();
            // Once its outbox is open: anywhere in the queueing and the deliveries (the queue fills in about a second).
            var out = new java.io.BufferedReader(new java.io.InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            for (String line = out.readLine(); !"ready".equals(line); line = out.readLine()) {
                assertThat(line).as("the child's output before it is ready").isNotNull(); // (a library's notice may come first)
            }
            Thread.sleep(random.nextInt(120));
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        // The last run ends on its own once every acknowledged message is delivered.
        Process last = start("--drain");
        assertThat(last.waitFor(120, TimeUnit.SECONDS)).as("the last run drains the queue").isTrue();
        assertThat(last.exitValue()).as(new String(last.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();

        List<String> acked = lines(tmp.resolve("acked"));
        List<String> deliveries = lines(tmp.resolve("delivered"));
        System.out.printf("outbox crash test: %d kills, %d messages acknowledged, %d deliveries (%d repeated after a kill)%n",
                rounds, acked.size(), deliveries.size(), deliveries.size() - new HashSet<>(deliveries).size());
        Map<String, Set<String>> idsByMessage = new HashMap<>();
        for (String d : deliveries) {
            String[] parts = d.split(" ");
            idsByMessage.computeIfAbsent(parts[0], k -> new HashSet<>()).add(parts[1]);
        }
        assertThat(acked).as("the sender was told of messages").hasSizeGreaterThan(rounds);
        for (String n : acked) {
            assertThat(idsByMessage).as("message " + n + " was acknowledged").containsKey(n);
        }
        idsByMessage.forEach((n, ids) -> assertThat(ids).as("message " + n + ": one delivery id however often it went").hasSize(1));
        try (var left = Files.list(tmp.resolve("outbox").resolve("spool"))) {
            assertThat(left).as("nothing left in the spool").isEmpty();
        }
    }

    private Process start(String... extra) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), Child.class.getName(),
                tmp.toString()));
        command.addAll(List.of(extra));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.PIPE).start();
    }

    private static List<String> lines(Path file) throws IOException {
        if (!Files.exists(file)) {
            return List.of();
        }
        // A line cut by the kill (no newline yet) was not made durable: it does not count.
        String text = Files.readString(file);
        List<String> out = new ArrayList<>(List.of(text.split("\n")));
        if (!text.endsWith("\n") && !out.isEmpty()) {
            out.removeLast();
        }
        out.removeIf(String::isEmpty);
        return out;
    }

    /** Appends a line and syncs it: once this returns, the line survives a kill. */
    static void note(Path file, String line) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            ch.write(java.nio.ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.US_ASCII)));
            ch.force(false);
        }
    }

    /** The app under the knife: queues the next messages while its outbox delivers them. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            Path dir = Path.of(args[0]);
            boolean drain = args.length > 1 && args[1].equals("--drain");
            Path acked = dir.resolve("acked");
            Path delivered = dir.resolve("delivered");
            Transport transport = d -> {
                try {
                    String subject = Files.readAllLines(d.message()).stream().filter(l -> l.startsWith("Subject: ")).findFirst()
                            .orElseThrow().substring(9);
                    note(delivered, subject + " " + d.id());
                } catch (IOException e) {
                    return new Transport.Temporary(e.toString());
                }
                Map<String, String> statuses = new HashMap<>();
                d.to().forEach(t -> statuses.put(t, "accepted"));
                return new Transport.Delivered(statuses);
            };
            Outbox outbox = new Outbox(dir.resolve("outbox"), transport, (persona, message, recipients, reason) -> {
                throw new IOException("no bounce expected: " + reason);
            }, new Outbox.Schedule(Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofDays(1)), Clock.systemUTC()).start();
            System.out.println("ready");
            System.out.flush();
            // A message queued but killed before its note is sent again under a new name: each name is one message.
            int next = lines(acked).stream().mapToInt(l -> Integer.parseInt(l.substring(0, l.indexOf('-')))).max().orElse(0) + 1;
            String run = Long.toHexString(System.nanoTime());
            String to = "bob@" + "b".repeat(7) + ".intrustd";
            for (int n = next; n <= MESSAGES && !drain; n++) {
                String name = n + "-" + run;
                Path file = outbox.spoolFile();
                Files.writeString(file, "From: alice@a.intrustd\r\nSubject: " + name + "\r\n\r\nbody " + n + "\r\n");
                outbox.queue("alice", file, "alice@a.intrustd", Map.of("route-b", List.of(to)));
                note(acked, name); // the sender has been told: this one must not be lost
            }
            for (long end = System.nanoTime() + Duration.ofSeconds(100).toNanos(); System.nanoTime() < end;) {
                if (outbox.pending("alice").isEmpty()) {
                    outbox.close();
                    System.exit(0);
                }
                Thread.sleep(50);
            }
            System.out.println("the queue did not drain: " + outbox.pending("alice").size() + " left");
            System.exit(1);
        }
    }
}
