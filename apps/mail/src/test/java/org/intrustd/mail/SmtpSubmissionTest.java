package org.intrustd.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SMTP conversation a desktop client has with the mail app, and what bad input gets. */
class SmtpSubmissionTest {
    @TempDir
    Path tmp;
    private final List<String> submitted = new ArrayList<>();
    private int files;

    private final SmtpSubmission.Sink sink = new SmtpSubmission.Sink() {
        @Override
        public boolean mayUse(String address) {
            return address.equals("me@x.intrustd");
        }

        @Override
        public void submit(String from, List<String> to, Path message) throws IOException {
            String text = Files.readString(message, StandardCharsets.ISO_8859_1);
            if (text.contains("Subject: refuse me")) {
                throw new IllegalArgumentException("refused\r\nwith a second line");
            }
            submitted.add(from + " -> " + to + "\n" + text);
            Files.delete(message);
        }

        @Override
        public Path tempFile() {
            return tmp.resolve("m" + files++);
        }
    };

    private String session(String input, long maxSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new SmtpSubmission("x.intrustd", maxSize, sink).serve(new ByteArrayInputStream(input.getBytes(StandardCharsets.ISO_8859_1)), out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static List<String> codes(String replies) {
        List<String> out = new ArrayList<>();
        for (String line : replies.split("\r\n")) {
            if (line.length() >= 4 && line.charAt(3) == ' ') {
                out.add(line.substring(0, 3));
            }
        }
        return out;
    }

    @Test
    void aClientSendsAMessageWithADotStuffedLine() throws Exception {
        String replies = session("EHLO laptop\r\nAUTH PLAIN AGFueQBhbnk=\r\nMAIL FROM:<me@x.intrustd> SIZE=100 BODY=8BITMIME\r\n"
                + "RCPT TO:<bob@y.intrustd>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n"
                + "From: me@x.intrustd\r\nSubject: hi\r\n\r\n..a line that began with a dot\r\nlast\r\n.\r\nQUIT\r\n", 1 << 20);
        assertThat(codes(replies)).containsExactly("220", "250", "235", "250", "250", "250", "354", "250", "221");
        assertThat(replies).contains("250-AUTH PLAIN LOGIN").doesNotContain("STARTTLS");
        assertThat(submitted).containsExactly("me@x.intrustd -> [bob@y.intrustd, carol@example.org]\n"
                + "From: me@x.intrustd\r\nSubject: hi\r\n\r\n.a line that began with a dot\r\nlast\r\n");
    }

    @Test
    void outOfOrderForeignTooLargeAndRefusedMessagesGetSmtpErrors() throws Exception {
        String replies = session("RCPT TO:<a@b>\r\nMAIL FROM:<me@x.intrustd>\r\nHELO laptop\r\nMAIL FROM:<boss@x.intrustd>\r\n"
                + "MAIL FROM: me@x.intrustd\r\nDATA\r\nMAIL FROM:<me@x.intrustd> SIZE=999999\r\nMAIL FROM:<me@x.intrustd>\r\n"
                + "RCPT TO:<>\r\nRCPT TO:<a@b>\r\nDATA\r\n" + "x".repeat(2000) + "\r\n.\r\n"
                + "MAIL FROM:<me@x.intrustd>\r\nRCPT TO:<a@b>\r\nDATA\r\nSubject: refuse me\r\n\r\nno\r\n.\r\n"
                + "AUTH CRAM-MD5\r\n" + "Y".repeat(5000) + "\r\nQUIT\r\n", 1000);
        assertThat(codes(replies)).containsExactly("220", "503", "503", "250", "550", "501", "503", "552", "250", "501", "250",
                "354", "552", "250", "250", "354", "554", "504", "500", "221");
        assertThat(replies).contains("554 5.6.0 refused??with a second line");
        assertThat(submitted).isEmpty();
        try (var left = Files.list(tmp)) {
            assertThat(left).as("refused messages leave no file").isEmpty();
        }
    }

    @Test
    void aClientThatKeepsErringIsCutOffAndOneThatVanishesMidMessageEndsTheSession() throws Exception {
        assertThat(session("nonsense\r\n".repeat(50), 1000)).endsWith("421 4.7.0 too many errors\r\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                () -> session("HELO l\r\nMAIL FROM:<me@x.intrustd>\r\nRCPT TO:<a@b>\r\nDATA\r\npartial", 1000))
                .isInstanceOf(IOException.class).hasMessageContaining("went away");
        assertThat(submitted).isEmpty();
        try (var left = Files.list(tmp)) {
            assertThat(left).as("the part that came is not kept").isEmpty();
        }
    }

    @Test
    void anyInputEndsTheSessionWithRepliesNeverAFailure() {
        Gen<String> words = Gen.of("EHLO a\r\n", "HELO a\r\n", "MAIL FROM:<me@x.intrustd>\r\n", "RCPT TO:<a@b>\r\n", "DATA\r\n",
                ".\r\n", "RSET\r\n", "AUTH LOGIN\r\n", "AUTH PLAIN\r\n", "\r\n", "\n", ".", "QUIT\r\n", "NOOP\r\n", "\u0000\u00ff");
        Property.forAll(500, Gen.strings(300), Gen.bytes(0, 50), (text, noise) -> {
            StringBuilder input = new StringBuilder();
            java.util.SplittableRandom r = new java.util.SplittableRandom(text.hashCode() * 31L + noise.length);
            for (int i = 0; i < 20; i++) {
                input.append(r.nextInt(3) == 0 ? text : words.next(r));
            }
            input.append(new String(noise, StandardCharsets.ISO_8859_1));
            try {
                String replies = session(input.toString(), 4096);
                assertThat(replies).startsWith("220 ");

            } catch (IOException e) {
                assertThat(e.getMessage()).as(e.toString()).contains("went away"); // the input ended inside a message or an AUTH
            } catch (RuntimeException e) {
                java.io.StringWriter trace = new java.io.StringWriter();
                e.printStackTrace(new java.io.PrintWriter(trace));
                throw new AssertionError(trace.toString(), e);
            }
        });
    }
}
