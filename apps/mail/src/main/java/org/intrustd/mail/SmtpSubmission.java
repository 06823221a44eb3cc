package org.intrustd.mail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * SMTP submission for desktop mail clients (RFC 6409, the parts a client uses), over the
 * upgraded stream the link carries: the persona is the one the link proved, so no password is
 * asked (AUTH is offered for clients that insist, and any credentials pass). A message is
 * accepted only from one of the persona's own addresses and handed to the outbox like mail
 * written in the webmail. One session per connection; bad input gets an SMTP error, never a
 * failure of the app.
 */
final class SmtpSubmission {
    /** Where an accepted message goes: queued (its file is taken), or refused with a reason. */
    interface Sink {
        /** Whether {@code address} is one of the persona's own, to send from. */
        boolean mayUse(String address);

        /** Queues {@code message} (taken over) from {@code from} to {@code to}; a refusal's reason as an {@link IllegalArgumentException}. */
        void submit(String from, List<String> to, Path message) throws IOException;

        /** A fresh file for a message being received. */
        Path tempFile() throws IOException;
    }

    static final int MAX_LINE = 1000; // RFC 5321 §4.5.3.1.4: a command line, CRLF included
    static final int MAX_DATA_LINE = 64 * 1024; // text lines may be longer than they should; a bound all the same
    static final int MAX_RECIPIENTS = 100;
    static final int MAX_ERRORS = 20;
    private static final Pattern PATH = Pattern.compile("(?i)(?:FROM|TO):\\s*<([^<>\\s]*)>(.*)");

    private final String domain;
    private final long maxSize;
    private final Sink sink;

    SmtpSubmission(String domain, long maxSize, Sink sink) {
        this.domain = domain;
        this.maxSize = maxSize;
        this.sink = sink;
    }

    /** A line too long to be a command or a line of text. */
    private static final class TooLong extends IOException {
        TooLong() {
            super("line too long");
        }
    }

    /** Serves one session until QUIT, the client's end, or too many errors. */
    void serve(InputStream in, OutputStream out) throws IOException {
        reply(out, "220 " + domain + " ESMTP Intrustd mail: submission over the link");
        String from = null;
        List<String> to = new ArrayList<>();
        boolean greeted = false;
        int errors = 0;
        while (errors < MAX_ERRORS) {
            String line;
            try {
                line = readLine(in, MAX_LINE);
            } catch (TooLong e) {
                errors++;
                reply(out, "500 5.5.2 line too long");
                continue;
            }
            if (line == null) {
                return;
            }
            String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase(Locale.ROOT) : line.toUpperCase(Locale.ROOT);
            String arg = line.length() > 4 ? line.substring(4).strip() : "";
            switch (verb) {
                case "EHLO" -> {
                    greeted = true;
                    from = null;
                    to.clear();
                    reply(out, "250-" + domain + " hello\r\n250-SIZE " + maxSize + "\r\n250-8BITMIME\r\n250-PIPELINING\r\n"
                            + "250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES");
                }
                case "HELO" -> {
                    greeted = true;
                    from = null;
                    to.clear();
                    reply(out, "250 " + domain);
                }
                case "AUTH" -> auth(arg, in, out);
                case "MAIL" -> {
                    Matcher m = PATH.matcher(arg);
                    if (!greeted || from != null) {
                        errors++;
                        reply(out, "503 5.5.1 " + (greeted ? "a sender is named already" : "say EHLO first"));
                    } else if (!m.matches()) {
                        errors++;
                        reply(out, "501 5.5.4 MAIL FROM:<address>");
                    } else if (!sink.mayUse(m.group(1))) {
                        errors++;
                        reply(out, "550 5.7.1 you may send only from your own addresses, not <" + printable(m.group(1)) + ">");
                    } else if (sizeParam(m.group(2)) > maxSize) {
                        reply(out, "552 5.3.4 a message is at most " + maxSize + " bytes");
                    } else {
                        from = m.group(1);
                        reply(out, "250 2.1.0 ok");
                    }
                }
                case "RCPT" -> {
                    Matcher m = PATH.matcher(arg);
                    if (from == null) {
                        errors++;
                        reply(out, "503 5.5.1 MAIL first");
                    } else if (!m.matches() || m.group(1).isEmpty()) {
                        errors++;
                        reply(out, "501 5.5.4 RCPT TO:<address>");
                    } else if (to.size() >= MAX_RECIPIENTS) {
                        reply(out, "452 4.5.3 at most " + MAX_RECIPIENTS + " recipients");
                    } else {
                        to.add(m.group(1));
                        reply(out, "250 2.1.5 ok");
                    }
                }
                case "DATA" -> {
                    if (from == null || to.isEmpty()) {
                        errors++;
                        reply(out, "503 5.5.1 " + (from == null ? "MAIL first" : "RCPT first"));
                        continue;
                    }
                    reply(out, "354 end with <CRLF>.<CRLF>");
                    reply(out, data(in, from, to));
                    from = null;
                    to.clear();
                }
                case "RSET" -> {
                    from = null;
                    to.clear();
                    reply(out, "250 2.0.0 ok");
                }
                case "NOOP" -> reply(out, "250 2.0.0 ok");
                case "VRFY" -> reply(out, "252 2.5.2 cannot verify, but will try");
                case "QUIT" -> {
                    reply(out, "221 2.0.0 bye");
                    return;
                }
                default -> {
                    errors++;
                    reply(out, "500 5.5.2 unknown command");
                }
            }
        }
        reply(out, "421 4.7.0 too many errors");
    }

    /** The client proves nothing more than the link did: any credentials pass, and are not kept. */
    private static void auth(String arg, InputStream in, OutputStream out) throws IOException {
        String[] parts = arg.split("\\s+");
        String mechanism = parts[0].toUpperCase(Locale.ROOT);
        List<String> challenges = switch (mechanism) {
            case "PLAIN" -> parts.length == 1 ? List.of("334 ") : List.of();
            case "LOGIN" -> parts.length == 1 ? List.of("334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6") : List.of("334 UGFzc3dvcmQ6");
            default -> null;
        };
        if (challenges == null) {
            reply(out, "504 5.5.4 AUTH PLAIN or LOGIN");
            return;
        }
        for (String challenge : challenges) {
            reply(out, challenge);
            String answer;
            try {
                answer = readLine(in, MAX_LINE);
            } catch (TooLong e) {
                reply(out, "500 5.5.6 authentication exchange line is too long");
                return;
            }
            if (answer == null) {
                throw new IOException("the client went away while authenticating");
            }
            if (answer.equals("*")) {
                reply(out, "501 5.0.0 authentication cancelled");
                return;
            }
        }
        reply(out, "235 2.7.0 the link proved who you are already");
    }

    private static long sizeParam(String params) {
        for (String p : params.strip().split("\\s+")) {
            if (p.toUpperCase(Locale.ROOT).startsWith("SIZE=")) {
                try {
                    return Long.parseLong(p.substring(5));
                } catch (NumberFormatException e) {
                    return 0;
                }
            }
        }
        return 0;
    }

    /** Reads the message up to the lone dot, to a file, and hands it on: the reply to send. */
    private String data(InputStream in, String from, List<String> to) throws IOException {
        Path file = sink.tempFile();
        String refusal;
        try {
            refusal = receive(in, file);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file); // the part that came is not kept
            throw e;
        }
        if (refusal != null) {
            Files.deleteIfExists(file);
            return refusal;
        }
        try {
            sink.submit(from, List.copyOf(to), file);
            return "250 2.0.0 queued";
        } catch (IllegalArgumentException e) {
            Files.deleteIfExists(file);
            return "554 5.6.0 " + printable(e.getMessage());
        }
    }

    /** The message's lines, dots unstuffed and ends made CRLF, into {@code file}; a refusal, or null. */
    private String receive(InputStream in, Path file) throws IOException {
        long size = 0;
        boolean tooLong = false;
        try (OutputStream body = new java.io.BufferedOutputStream(Files.newOutputStream(file), 64 * 1024)) {
            while (true) {
                String line;
                try {
                    line = readLine(in, MAX_DATA_LINE);
                } catch (TooLong e) {
                    tooLong = true; // the rest of the message is read and dropped
                    continue;
                }
                if (line == null) {
                    throw new IOException("the client went away in the middle of a message");
                }
                if (line.equals(".")) {
                    break;
                }
                byte[] bytes = (line.startsWith(".") ? line.substring(1) : line).getBytes(StandardCharsets.ISO_8859_1);
                size += bytes.length + 2;
                if (size <= maxSize && !tooLong) {
                    body.write(bytes);
                    body.write('\r');
                    body.write('\n');
                }
            }
        }
        return size > maxSize ? "552 5.3.4 a message is at most " + maxSize + " bytes"
                : tooLong ? "500 5.5.2 a line of the message is too long" : null;
    }

    /**
     * One line without its end (CRLF, or a bare LF), bytes kept as they are (ISO-8859-1 maps them
     * one to one); null at the end of the stream. Longer than {@code max} is {@link TooLong}, after
     * the rest of the line is skipped.
     */
    static String readLine(InputStream in, int max) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        boolean over = false;
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (b.size() < max) {
                b.write(c);
            } else {
                over = true;
            }
        }
        if (c < 0 && b.size() == 0) {
            return null;
        }
        if (over) {
            throw new TooLong();
        }
        byte[] bytes = b.toByteArray();
        int end = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
    }

    private static void reply(OutputStream out, String text) throws IOException {
        out.write((text + "\r\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private static String printable(String s) {
        return Inbound.printable(s == null ? "" : s).replaceAll("[\\r\\n]", " ");
    }
}
