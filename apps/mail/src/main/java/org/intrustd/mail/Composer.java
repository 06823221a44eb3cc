package org.intrustd.mail;

import jakarta.activation.DataHandler;
import jakarta.activation.FileDataSource;
import jakarta.mail.Address;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.intrustd.core.id.ApplianceId;

/** Writes the messages the app makes: a persona's new mail, and bounces (RFC 5322 through Jakarta Mail). */
final class Composer {
    private static final Session SESSION = Session.getInstance(new Properties());
    /** The header block of a bounced message that its bounce quotes, at most. */
    private static final int QUOTED_HEADERS = 64 * 1024;

    private Composer() {
    }

    /** A new message from a persona. */
    record Draft(List<String> to, List<String> cc, List<String> bcc, String subject, String text, Optional<String> inReplyTo,
            List<String> references, List<Uploads.Upload> attachments) {
    }

    /** A fresh Message-ID in {@code domain}, with its brackets. */
    static String messageId(String domain) {
        return "<" + DeliveryId.next() + "@" + domain + ">";
    }

    /** Writes {@code draft} from {@code from} (an address) with {@code messageId} to {@code out}, Bcc left out. */
    static void write(String from, String displayName, String messageId, Draft draft, OutputStream out) throws IOException {
        write(from, displayName, messageId, draft, false, out);
    }

    /** {@link #write}, with the Bcc field kept when {@code keepBcc}: a draft is the writer's own. */
    static void write(String from, String displayName, String messageId, Draft draft, boolean keepBcc, OutputStream out)
            throws IOException {
        try {
            MimeMessage m = new MimeMessage(SESSION);
            m.setFrom(new InternetAddress(from, displayName.isBlank() ? null : displayName, "UTF-8"));
            // A draft may hold an address half typed: kept as it is, checked when it is sent.
            boolean strict = !keepBcc;
            m.setRecipients(MimeMessage.RecipientType.TO, addresses(draft.to(), strict));
            if (!draft.cc().isEmpty()) {
                m.setRecipients(MimeMessage.RecipientType.CC, addresses(draft.cc(), strict));
            }
            if (keepBcc && !draft.bcc().isEmpty()) {
                m.setRecipients(MimeMessage.RecipientType.BCC, addresses(draft.bcc(), strict));
            }
            m.setSubject(draft.subject(), "UTF-8");
            m.setSentDate(new Date());
            if (draft.attachments().isEmpty()) {
                m.setText(draft.text(), "UTF-8");
            } else {
                MimeMultipart mixed = new MimeMultipart();
                MimeBodyPart text = new MimeBodyPart();
                text.setText(draft.text(), "UTF-8");
                mixed.addBodyPart(text);
                for (Uploads.Upload u : draft.attachments()) {
                    // Read from its file while the message is written, base64 on the way: never whole in memory.
                    MimeBodyPart part = new MimeBodyPart();
                    part.setDataHandler(new DataHandler(new TypedFile(u.file(), u.contentType())));
                    part.setFileName(u.filename());
                    part.setDisposition(MimeBodyPart.ATTACHMENT);
                    mixed.addBodyPart(part);
                }
                m.setContent(mixed);
            }
            draft.inReplyTo().ifPresent(r -> header(m, "In-Reply-To", bracketed(r)));
            if (!draft.references().isEmpty()) {
                header(m, "References", String.join(" ", draft.references().stream().map(Composer::bracketed).toList()));
            }
            m.saveChanges();
            m.setHeader("Message-ID", messageId); // after saveChanges, which makes one of its own
            m.writeTo(out, keepBcc ? null : new String[] {"Bcc"});
        } catch (MessagingException e) {
            throw new IllegalArgumentException("the message cannot be written: " + e.getMessage(), e);
        }
    }

    /** A file with the type the uploader gave it (FileDataSource would guess from the name). */
    private static final class TypedFile extends FileDataSource {
        private final String type;

        TypedFile(Path file, String type) {
            super(file.toFile());
            this.type = type;
        }

        @Override
        public String getContentType() {
            return type;
        }
    }

    /** A message id as a header holds it, {@code <id>}: the API hands ids out without their brackets. */
    static String bracketed(String id) {
        String bare = id.strip().replaceAll("[<>\\s]", "");
        if (bare.isEmpty()) {
            throw new IllegalArgumentException("an empty message id");
        }
        return "<" + bare + ">";
    }

    private static void header(MimeMessage m, String name, String value) {
        try {
            m.setHeader(name, value.replaceAll("[\\r\\n]", ""));
        } catch (MessagingException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static Address[] addresses(List<String> list, boolean strict) throws MessagingException {
        List<Address> out = new java.util.ArrayList<>();
        for (String a : list) {
            if (strict) {
                out.add(new InternetAddress(a, true));
            } else if (!a.isBlank()) {
                out.addAll(List.of(InternetAddress.parseHeader(a.replaceAll("\\p{Cntrl}", ""), false)));
            }
        }
        return out.toArray(Address[]::new);
    }

    /**
     * A bounce: from {@code postmaster@<self>}, saying which recipients did not get
     * {@code original} and why, with the original's headers attached (not its body: a bounce of
     * a 100 MiB message stays small).
     */
    static void bounce(ApplianceId self, MailAddress to, Path original, List<String> recipients, String reason, OutputStream out)
            throws IOException {
        try {
            MimeMessage m = new MimeMessage(SESSION);
            m.setFrom(new InternetAddress("postmaster@" + MailAddress.domain(self), "Mail delivery", "UTF-8"));
            m.setRecipient(MimeMessage.RecipientType.TO, new InternetAddress(to.toString()));
            String subject = "";
            try (InputStream in = Files.newInputStream(original)) {
                subject = new MimeMessage(SESSION, in).getSubject();
            } catch (MessagingException | IOException e) {
                // the subject is a courtesy
            }
            m.setSubject("Undelivered: " + (subject == null ? "" : subject), "UTF-8");
            m.setSentDate(new Date());
            MimeMultipart parts = new MimeMultipart();
            MimeBodyPart text = new MimeBodyPart();
            text.setText("Your message could not be delivered to:\n\n  " + String.join("\n  ", recipients) + "\n\nReason: " + reason
                    + "\n\nIts headers are attached.\n", "UTF-8");
            parts.addBodyPart(text);
            MimeBodyPart headers = new MimeBodyPart();
            headers.setContent(headerBlock(original), "text/rfc822-headers; charset=utf-8");
            headers.setFileName("headers.txt");
            parts.addBodyPart(headers);
            m.setContent(parts);
            m.saveChanges();
            m.writeTo(out);
        } catch (MessagingException e) {
            throw new IOException("cannot write a bounce: " + e.getMessage(), e);
        }
    }

    /** The header block of a message file: up to the first empty line, at most {@link #QUOTED_HEADERS} bytes. */
    static String headerBlock(Path message) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(message)) {
            head = in.readNBytes(QUOTED_HEADERS);
        }
        String s = new String(head, StandardCharsets.UTF_8);
        int end = s.indexOf("\r\n\r\n");
        if (end < 0) {
            end = s.indexOf("\n\n");
        }
        return end < 0 ? s : s.substring(0, end + 1);
    }
}
