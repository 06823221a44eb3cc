package org.intrustd.mail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.intrustd.mail.MessageView.Address;
import org.intrustd.mail.MessageView.Part;
import org.intrustd.mail.MessageView.Sanitised;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Attribute;
import org.jsoup.nodes.Element;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MessageViewTest {
    @TempDir
    Path dir;
    private final AtomicInteger files = new AtomicInteger();

    /** A message file from lines joined with CRLF, as mail is stored. */
    private Path message(String... lines) throws IOException {
        return bytes(String.join("\r\n", lines).getBytes(StandardCharsets.UTF_8));
    }

    private Path bytes(byte[] content) throws IOException {
        Path file = dir.resolve("m" + files.incrementAndGet() + ".eml");
        Files.write(file, content);
        return file;
    }

    private static byte[] copy(Path message, int index) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(MessageView.copyPart(message, index, out)).isTrue();
        return out.toByteArray();
    }

    /** A message with every kind of part, for the mutation property. */
    private static final String RICH = String.join("\r\n",
            "From: =?UTF-8?Q?J=C3=B6rg?= <joerg@example.org>",
            "To: a@example.com, \"B, C\" <b@example.com>",
            "Subject: =?UTF-8?B?UmljaCDinJM=?=",
            "Date: Tue, 3 Mar 2026 10:00:00 +0100",
            "Message-ID: <rich@example.org>",
            "MIME-Version: 1.0",
            "Content-Type: multipart/mixed; boundary=\"outer\"",
            "",
            "--outer",
            "Content-Type: multipart/alternative; boundary=\"alt\"",
            "",
            "--alt",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Caf=C3=A9 au lait",
            "--alt",
            "Content-Type: text/html; charset=utf-8",
            "",
            "<p>Caf\u00e9 <img src=\"cid:logo@x\"> <img src=\"https://t.example/p.gif\" width=1 height=1></p>",
            "--alt--",
            "--outer",
            "Content-Type: image/png; name=\"logo.png\"",
            "Content-ID: <logo@x>",
            "Content-Transfer-Encoding: base64",
            "",
            "iVBORw0KGgo=",
            "--outer",
            "Content-Type: application/pdf",
            "Content-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf",
            "Content-Transfer-Encoding: base64",
            "",
            "JVBERi0xLjQK",
            "--outer",
            "Content-Type: message/rfc822",
            "",
            "Subject: inner",
            "",
            "inner text",
            "--outer--",
            "");

    @Test
    void decodesEncodedWordsInHeaders() throws IOException {
        Path m = message(
                "From: =?UTF-8?Q?Andr=C3=A9_M=C3=BCller?= <andre@example.org>",
                "To: plain@example.com, =?ISO-8859-1?Q?Fran=E7ois?= <f@example.fr>",
                "Cc: undisclosed-recipients:;",
                "Reply-To: this is <<< not ;; an address",
                "Subject: =?UTF-8?B?SGVsbG8g8J+Rizsgw6l0w6k=?= again",
                "Date: Tue, 3 Mar 2026 10:00:00 +0100",
                "Message-ID: <m1@example.org>",
                "References: <r1@example.org>",
                " <r2@example.org>",
                "In-Reply-To: <r2@example.org>",
                "",
                "Hello,",
                "world",
                "");
        MessageView v = MessageView.read(m, false);
        assertThat(v.subject()).isEqualTo("Hello \uD83D\uDC4B; \u00e9t\u00e9 again");
        assertThat(v.from()).containsExactly(new Address("Andr\u00e9 M\u00fcller", "andre@example.org"));
        assertThat(v.to()).containsExactly(new Address("", "plain@example.com"), new Address("Fran\u00e7ois", "f@example.fr"));
        assertThat(v.cc()).containsExactly(new Address("undisclosed-recipients", ""));
        assertThat(v.replyTo()).containsExactly(new Address("this is <<< not ;; an address", ""));
        assertThat(v.date()).contains(Instant.parse("2026-03-03T09:00:00Z"));
        assertThat(v.messageId()).isEqualTo("m1@example.org");
        assertThat(v.references()).containsExactly("r1@example.org", "r2@example.org");
        assertThat(v.inReplyTo()).isEqualTo("r2@example.org");
        assertThat(v.text()).isEqualTo("Hello,\nworld\n");
        assertThat(v.html()).isEmpty();
        assertThat(v.attachments()).isEmpty();
    }

    @Test
    void raw8BitHeadersAreUtf8OrElseLatin1() throws IOException {
        byte[] utf8 = "Subject: caf\u00e9 \u2713\r\nFrom: J\u00f6rg <j@example.org>\r\n\r\nx".getBytes(StandardCharsets.UTF_8);
        MessageView v = MessageView.read(bytes(utf8), false);
        assertThat(v.subject()).isEqualTo("caf\u00e9 \u2713");
        assertThat(v.from()).containsExactly(new Address("J\u00f6rg", "j@example.org"));
        byte[] latin1 = "Subject: caf\u00e9\r\n\r\nx".getBytes(StandardCharsets.ISO_8859_1);
        assertThat(MessageView.read(bytes(latin1), false).subject()).isEqualTo("caf\u00e9");
    }

    @Test
    void rfc2231ContinuationsMakeOneFilename() throws IOException {
        Path m = message(
                "Content-Type: multipart/mixed; boundary=b",
                "",
                "--b",
                "Content-Type: application/octet-stream",
                "Content-Disposition: attachment;",
                " filename*0*=UTF-8''%E2%82%AC%20a%20long;",
                " filename*1=\" name.txt\"",
                "",
                "data",
                "--b--");
        assertThat(MessageView.read(m, false).attachments()).extracting(Part::filename).containsExactly("\u20ac a long name.txt");
    }

    @Test
    void alternativeTakesTextFromPlainAndSanitisesHtml() throws IOException {
        Path m = message(
                "Subject: alt",
                "Date: not a date at all",
                "Content-Type: multipart/alternative; boundary=b",
                "",
                "--b",
                "Content-Type: text/plain; charset=iso-8859-1",
                "Content-Transfer-Encoding: quoted-printable",
                "",
                "Plain =E9t=E9",
                "--b",
                "Content-Type: text/html; charset=utf-8",
                "",
                "<html><head><style>p{}</style><script>evil()</script></head><body>",
                "<p onclick=\"steal()\" style=\"color:red\" class=\"c\" id=\"i\"><b>Bold</b></p>",
                "<a href=\"javascript:alert(1)\">js</a> <a href=\"https://example.org/\">web</a>",
                "<iframe src=\"https://evil.example/\"></iframe><script>more()</script>",
                "<form action=\"https://evil.example/\"><input name=p></form><object data=x></object>",
                "</body></html>",
                "--b--",
                "");
        MessageView v = MessageView.read(m, false);
        assertThat(v.text()).isEqualTo("Plain \u00e9t\u00e9");
        assertThat(v.date()).isEmpty();
        assertThat(v.attachments()).isEmpty();
        String html = v.html().orElseThrow();
        assertThat(html).contains("<b>Bold</b>", "href=\"https://example.org/\"",
                "rel=\"noopener noreferrer nofollow\"", "target=\"_blank\"");
        assertThat(html.toLowerCase(Locale.ROOT)).doesNotContain("<script", "evil()", "more()", "onclick", "javascript:",
                "<iframe", "<form", "<input", "<object", "style", "class=", "id=", "<html", "<head", "<body");
        assertThat(v.remoteContentBlocked()).isFalse();
    }

    @Test
    void onlyHtmlGivesTextDerivedFromIt() throws IOException {
        Path m = message("Content-Type: text/html", "", "<p>One<br>Two</p><p>Three <script>x()</script></p>", "");
        MessageView v = MessageView.read(m, false);
        assertThat(v.text()).isEqualTo("One\nTwo\nThree");
        assertThat(v.html().orElseThrow()).contains("<p>One<br>Two</p><p>Three </p>");
    }

    @Test
    void remoteContentIsBlockedUnlessAllowedAndTrackingPixelsAlwaysGo() {
        String html = "<p>Hi <img src=\"https://img.example/a.png\" alt=\"a\">"
                + "<img src=\"http://track.example/p.gif\" width=\"1\" height=\"1\">"
                + "<img src=\"https://track.example/q.gif\" width=\"0\">"
                + "<img src=\"cid:logo@x\" alt=\"logo\">"
                + "<img src=\"data:image/png;base64,iVBORw0KGgo=\">"
                + "<img src=\"data:image/svg+xml,<svg onload=x>\">"
                + "<table background=\"https://img.example/bg.png\"><tr><td>cell</td></tr></table></p>";

        Sanitised blocked = MessageView.sanitise(html, false);
        assertThat(blocked.remoteContentBlocked()).isTrue();
        assertThat(blocked.html()).contains("data-blocked-src=\"https://img.example/a.png\"", "alt=\"a\"",
                "src=\"cid:logo@x\"", "src=\"data:image/png;base64,iVBORw0KGgo=\"",
                "data-blocked-background=\"https://img.example/bg.png\"");
        assertThat(blocked.html()).doesNotContain(" src=\"https://img.example", "track.example", "svg", "<html", "<body");

        Sanitised allowed = MessageView.sanitise(html, true);
        assertThat(allowed.remoteContentBlocked()).isFalse();
        assertThat(allowed.html()).contains("src=\"https://img.example/a.png\"", "src=\"cid:logo@x\"",
                "background=\"https://img.example/bg.png\"");
        assertThat(allowed.html()).doesNotContain("data-blocked", "track.example", "svg");

        assertThat(MessageView.sanitise("<p>nothing remote</p>", false)).isEqualTo(new Sanitised("<p>nothing remote</p>", false));
    }

    @Test
    void attachmentsAreListedCountedAndCopied() throws IOException {
        byte[] pdf = new byte[10_000];
        new Random(7).nextBytes(pdf);
        byte[] text = "a;b\r\nc;d\r\n".getBytes(StandardCharsets.US_ASCII);
        Path m = message(
                "Subject: files",
                "Content-Type: multipart/mixed; boundary=\"=_mixed\"",
                "",
                "preamble",
                "--=_mixed",
                "Content-Type: multipart/related; boundary=rel",
                "",
                "--rel",
                "Content-Type: text/html; charset=utf-8",
                "",
                "<p>See <img src=\"cid:chart%40x\"></p>",
                "--rel",
                "Content-Type: image/gif",
                "Content-ID: <chart@x>",
                "Content-Transfer-Encoding: base64",
                "",
                "R0lGODlh",
                "--rel--",
                "--=_mixed",
                "Content-Type: application/pdf",
                "Content-Disposition: attachment;",
                " filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.pdf",
                "Content-Transfer-Encoding: base64",
                "",
                Base64.getMimeEncoder().encodeToString(pdf),
                "--=_mixed",
                "Content-Type: text/csv; name=\"=?UTF-8?Q?d=C3=A4ta.csv?=\"",
                "Content-Disposition: inline",
                "Content-Transfer-Encoding: quoted-printable",
                "",
                "a;b",
                "c;d",
                "",
                "--=_mixed",
                "Content-Type: message/rfc822",
                "",
                "Subject: forwarded",
                "Content-Type: multipart/mixed; boundary=inner",
                "",
                "--inner",
                "Content-Type: application/zip",
                "",
                "zip",
                "--inner--",
                "--=_mixed--",
                "epilogue",
                "");
        MessageView v = MessageView.read(m, false);
        assertThat(v.text()).isEqualTo("See");
        assertThat(v.html()).contains("<p>See <img src=\"cid:chart%40x\"></p>");
        List<Part> parts = v.attachments();
        assertThat(parts).hasSize(4);
        assertThat(parts.get(0)).isEqualTo(new Part(1, "", "image/gif", 6, Optional.of("chart@x"), true));
        assertThat(parts.get(1)).isEqualTo(new Part(2, "r\u00e9sum\u00e9 \u20ac.pdf", "application/pdf", pdf.length,
                Optional.empty(), false));
        assertThat(parts.get(2)).isEqualTo(new Part(3, "d\u00e4ta.csv", "text/csv", text.length, Optional.empty(), true));
        assertThat(parts.get(3).contentType()).isEqualTo("message/rfc822");
        assertThat(parts.get(3).inline()).isFalse();

        assertThat(copy(m, 2)).isEqualTo(pdf);
        assertThat(copy(m, 3)).isEqualTo(text);
        assertThat(new String(copy(m, 4), StandardCharsets.US_ASCII)).startsWith("Subject: forwarded\r\n").contains("zip");
        assertThat(parts.get(3).size()).isEqualTo(copy(m, 4).length);
        for (int missing : new int[] {0, 5, -1, Integer.MAX_VALUE}) {
            assertThat(MessageView.copyPart(m, missing, OutputStream.nullOutputStream())).isFalse();
        }
    }

    @Test
    void hugeAttachmentIsStreamed() throws IOException {
        long size = 100L << 20;
        Path m = dir.resolve("huge.eml");
        try {
            // 57 bytes make one 76-char base64 line; whole chunks of them, then the rest with its padding.
            byte[] chunk = new byte[57 * 1024];
            for (int i = 0; i < chunk.length; i++) {
                chunk[i] = (byte) (i * 31 + 7);
            }
            Base64.Encoder b64 = Base64.getMimeEncoder();
            byte[] encoded = (b64.encodeToString(chunk) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            long whole = size / chunk.length;
            byte[] rest = new byte[(int) (size - whole * chunk.length)];
            System.arraycopy(chunk, 0, rest, 0, rest.length);
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(m), 1 << 20)) {
                out.write(String.join("\r\n", "Subject: big", "Content-Type: multipart/mixed; boundary=b", "", "--b",
                        "Content-Type: text/plain", "", "see attached", "--b", "Content-Type: application/octet-stream",
                        "Content-Disposition: attachment; filename=big.bin", "Content-Transfer-Encoding: base64", "", "")
                        .getBytes(StandardCharsets.US_ASCII));
                for (long i = 0; i < whole; i++) {
                    out.write(encoded);
                }
                out.write((b64.encodeToString(rest) + "\r\n--b--\r\n").getBytes(StandardCharsets.US_ASCII));
            }

            List<MemoryPoolMXBean> old = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(p -> p.getType() == MemoryType.HEAP && p.isCollectionUsageThresholdSupported()
                            && !p.getName().contains("Eden") && !p.getName().contains("Survivor"))
                    .toList();
            System.gc();
            long before = old.stream().mapToLong(p -> p.getUsage().getUsed()).sum();
            old.forEach(MemoryPoolMXBean::resetPeakUsage);

            MessageView v = MessageView.read(m, false);

            long peak = old.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
            assertThat(v.text()).isEqualTo("see attached");
            assertThat(v.attachments()).containsExactly(new Part(1, "big.bin", "application/octet-stream", size,
                    Optional.empty(), false));
            // A 100 MiB buffer anywhere would be a humongous or tenured allocation.
            assertThat(peak - before).isLessThan(64L << 20);
        } finally {
            Files.deleteIfExists(m);
        }
    }

    @Test
    void malformedMessagesStillGiveAView() throws IOException {
        MessageView truncated = MessageView.read(message(
                "Subject: cut short",
                "Content-Type: multipart/mixed; boundary=b",
                "",
                "--b",
                "Content-Type: text/plain",
                "",
                "the text",
                "--b",
                "Content-Type: application/octet-stream",
                "Content-Transfer-Encoding: base64",
                "",
                "AAECAwQFBgcI",
                "AAEC"), false);
        assertThat(truncated.subject()).isEqualTo("cut short");
        assertThat(truncated.text()).isEqualTo("the text");
        assertThat(truncated.attachments()).extracting(Part::size).containsExactly(12L);

        MessageView noBoundary = MessageView.read(message(
                "Subject: no boundary", "Content-Type: multipart/mixed", "", "--b", "Content-Type: text/plain", "", "x", "--b--"), false);
        assertThat(noBoundary.subject()).isEqualTo("no boundary");

        MessageView garbage = MessageView.read(message(
                "this is not a header",
                ": no name",
                "Subject: =?UTF-8?B?!!!?= =?bogus?Q?x?= =?UTF-8?Q?ok?=",
                "From: <<<@@@>>>",
                "To: ,,,",
                "Date: 99 Foo 99999 99:99:99 +9999",
                "Content-Type: ;;;charset=\"",
                "Content-Transfer-Encoding: rot13",
                "\u0001\u0002: \u00ff",
                "",
                "body"), false);
        assertThat(garbage.subject()).contains("ok");
        assertThat(garbage.date()).isEmpty();
        assertThat(garbage.from()).hasSize(1);

        MessageView badEncodings = MessageView.read(message(
                "Content-Type: multipart/mixed; boundary=b",
                "",
                "--b",
                "Content-Type: text/plain; charset=x-no-such-charset",
                "Content-Transfer-Encoding: quoted-printable",
                "",
                "bad =ZZ qp =",
                "--b",
                "Content-Type: application/x; name=a",
                "Content-Transfer-Encoding: base64",
                "",
                "!!!! not base64 ****",
                "--b--"), false);
        assertThat(badEncodings.text()).contains("bad");
        assertThat(badEncodings.attachments()).hasSize(1);

        String longLine = "X-Long: " + "a".repeat(200 << 10);
        assertThat(MessageView.read(message("Subject: long", longLine, "", "body"), false)).isNotNull();
        assertThat(MessageView.read(message("Subject: long", "", longLine), false).text()).hasSize(longLine.length());

        byte[] junk = new byte[64 << 10];
        new Random(1).nextBytes(junk);
        assertThat(MessageView.read(bytes(junk), false)).isNotNull();
        assertThat(MessageView.read(bytes(new byte[0]), false).text()).isEmpty();
        assertThat(MessageView.read(message("Subject: only headers"), false).subject()).isEqualTo("only headers");

        MessageView nested = MessageView.read(message(
                "Subject: outer",
                "Content-Type: message/rfc822",
                "",
                "Subject: inner",
                "Content-Type: multipart/mixed; boundary=i",
                "",
                "--i",
                "Content-Type: text/plain",
                "",
                "inner text",
                "--i--"), false);
        assertThat(nested.subject()).isEqualTo("outer");
        assertThat(nested.text()).isEmpty();
        assertThat(nested.attachments()).extracting(Part::contentType).containsExactly("message/rfc822");

        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            deep.append("Content-Type: multipart/mixed; boundary=d").append(i).append("\r\n\r\n--d").append(i).append("\r\n");
        }
        assertThat(MessageView.read(bytes(deep.toString().getBytes(StandardCharsets.US_ASCII)), false)).isNotNull();

        StringBuilder headers = new StringBuilder();
        for (int i = 0; i < 5000; i++) {
            headers.append("X-H").append(i).append(": v\r\n");
        }
        assertThat(MessageView.read(bytes((headers + "\r\nbody").getBytes(StandardCharsets.US_ASCII)), false)).isNotNull();
    }

    @Test
    void longTextIsCut() throws IOException {
        MessageView v = MessageView.read(message("Subject: long", "", "x".repeat(MessageView.MAX_TEXT + 10)), false);
        assertThat(v.text()).hasSize(MessageView.MAX_TEXT + MessageView.CUT.length()).endsWith(MessageView.CUT);
    }

    @Test
    void readNeverThrowsOnRandomOrMutatedInput() {
        byte[] rich = RICH.getBytes(StandardCharsets.UTF_8);
        Gen<byte[]> mutated = r -> mutate(rich, r);
        Property.forAll(300, Gen.oneOf(Gen.bytes(0, 4096), mutated), input -> {
            try {
                Path m = bytes(input);
                MessageView v = MessageView.read(m, r(input));
                for (int i = 0; i < v.attachments().size(); i++) {
                    assertThat(v.attachments().get(i).index()).isEqualTo(i + 1);
                }
                int last = v.attachments().size();
                assertThat(MessageView.copyPart(m, last + 1, OutputStream.nullOutputStream())).isFalse();
                if (last > 0) {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    assertThat(MessageView.copyPart(m, last, out)).isTrue();
                    assertThat((long) out.size()).isEqualTo(v.attachments().get(last - 1).size());
                }
                Files.delete(m);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
    }

    @Test
    void theRichMessageReadsWhole() throws IOException {
        MessageView v = MessageView.read(bytes(RICH.getBytes(StandardCharsets.UTF_8)), false);
        assertThat(v.subject()).isEqualTo("Rich \u2713");
        assertThat(v.text()).isEqualTo("Caf\u00e9 au lait");
        assertThat(v.html()).contains("<p>Caf\u00e9 <img src=\"cid:logo@x\"> </p>");
        assertThat(v.remoteContentBlocked()).isFalse();
        assertThat(v.attachments()).extracting(Part::filename, Part::contentType, Part::size, Part::inline)
                .containsExactly(
                        tuple("logo.png", "image/png", 8L, true),
                        tuple("r\u00e9sum\u00e9.pdf", "application/pdf", 9L, false),
                        tuple("", "message/rfc822", 28L, false));
    }

    private static boolean r(byte[] input) {
        return input.length % 2 == 0;
    }

    /** Flips, deletes, inserts and duplicates bytes: the damage mail takes on its way. */
    private static byte[] mutate(byte[] original, SplittableRandom r) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] b = original.clone();
        int edits = 1 + r.nextInt(20);
        for (int e = 0; e < edits && b.length > 0; e++) {
            int at = r.nextInt(b.length);
            int len = Math.min(b.length - at, 1 + r.nextInt(32));
            out.reset();
            switch (r.nextInt(4)) {
                case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> {
                    out.write(b, 0, at);
                    out.write(b, at + len, b.length - at - len);
                    b = out.toByteArray();
                }
                case 2 -> {
                    byte[] junk = new byte[len];
                    r.nextBytes(junk);
                    out.write(b, 0, at);
                    out.writeBytes(junk);
                    out.write(b, at, b.length - at);
                    b = out.toByteArray();
                }
                default -> {
                    out.write(b, 0, at + len);
                    out.write(b, at, b.length - at);
                    b = out.toByteArray();
                }
            }
        }
        return b;
    }

    private static final Pattern EVENT_HANDLER = Pattern.compile("(?i)[\\s\"'/]on[a-z]+\\s*=");
    private static final Gen<String> HTMLISH = Gen.oneOf(
            Gen.of("<script>", "</script>", "<SCRIPT src=//x>", "<img src=x onerror=alert(1)>", "<a href=\"javascript:alert(1)\">",
                    "<a href=' jav&#x09;ascript:x'>", "<a href=\"JaVaScRiPt:x\">", "<svg onload=x>", "<iframe src=//evil>",
                    "<style>", "</style>", "<!--", "-->", "<![CDATA[", "]]>", "<math>", "<noscript>", "<p onclick=\"x\">",
                    "<img src=http://e/x width=1>", "<img src=\"data:text/html,x\">", "<img src=data:image/png;base64,AA>",
                    "<object data=x>", "<form action=x>", "<body onload=x>", "<table background=javascript:x>", "<a href=",
                    "\"", "'", ">", "<", "=", "/", " ", "\u0000", "text", "<textarea>", "<title>", "<xmp>", "<template>",
                    "<img src=cid:x>", "<base href=http://evil/>", "<meta http-equiv=refresh content=0;url=x>"),
            Gen.strings(16));

    @Test
    void sanitiseNeverThrowsNorLetsScriptThrough() {
        Property.forAll(300, Gen.strings(2000), Gen.of(true, false), (html, allow) -> {
            String out = MessageView.sanitise(html, allow).html();
            String lower = out.toLowerCase(Locale.ROOT);
            assertThat(lower).doesNotContain("<script", "javascript:");
            assertThat(EVENT_HANDLER.matcher(out).find()).as(out).isFalse();
            assertSafe(out);
        });
        Property.forAll(300, HTMLISH.list(60).map(l -> String.join("", l)), Gen.of(true, false), (html, allow) -> {
            String out = MessageView.sanitise(html, allow).html();
            assertThat(out.toLowerCase(Locale.ROOT)).doesNotContain("<script");
            assertSafe(out);
        });
    }

    /** The output, parsed again as a browser would, has no active content in it. */
    private static void assertSafe(String html) {
        for (Element e : Jsoup.parseBodyFragment(html).body().getAllElements()) {
            assertThat(e.tagName()).as(html).isNotIn("script", "iframe", "object", "embed", "form", "input", "style",
                    "svg", "math", "base", "meta", "link", "frame", "textarea");
            for (Attribute a : e.attributes()) {
                String key = a.getKey().toLowerCase(Locale.ROOT);
                String value = a.getValue().replaceAll("[\\s\\p{Cntrl}]", "").toLowerCase(Locale.ROOT);
                assertThat(key).as(html).doesNotStartWith("on").isNotIn("style", "class", "id");
                assertThat(value).as(html).doesNotStartWith("javascript:").doesNotStartWith("vbscript:");
                if (value.startsWith("data:")) {
                    assertThat(e.tagName() + " " + key + " " + value).as(html)
                            .matches("img src data:image/(png|jpeg|gif|webp)[;,].*");
                }
            }
        }
    }
}
