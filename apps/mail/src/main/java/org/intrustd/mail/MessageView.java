package org.intrustd.mail;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.codec.DecodeMonitor;
import org.apache.james.mime4j.codec.DecoderUtil;
import org.apache.james.mime4j.dom.address.AddressList;
import org.apache.james.mime4j.dom.address.Group;
import org.apache.james.mime4j.dom.address.Mailbox;
import org.apache.james.mime4j.dom.field.DateTimeField;
import org.apache.james.mime4j.dom.field.ParsedField;
import org.apache.james.mime4j.field.LenientFieldParser;
import org.apache.james.mime4j.field.address.LenientAddressParser;
import org.apache.james.mime4j.message.DefaultBodyDescriptorBuilder;
import org.apache.james.mime4j.message.MaximalBodyDescriptor;
import org.apache.james.mime4j.stream.BodyDescriptor;
import org.apache.james.mime4j.stream.EntityState;
import org.apache.james.mime4j.stream.Field;
import org.apache.james.mime4j.stream.MimeConfig;
import org.apache.james.mime4j.stream.MimeTokenStream;
import org.apache.james.mime4j.stream.RawField;
import org.apache.james.mime4j.stream.RecursionMode;
import org.apache.james.mime4j.util.ByteSequence;
import org.apache.james.mime4j.util.CharsetUtil;
import org.apache.james.mime4j.util.MimeUtil;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.nodes.Node;
import org.jsoup.nodes.TextNode;
import org.jsoup.safety.Cleaner;
import org.jsoup.safety.Safelist;
import org.jsoup.select.NodeVisitor;

/**
 * What the webmail shows of one stored RFC 5322 message: the headers decoded, a text body, a
 * sanitised HTML body and the list of attachments. Messages come from anyone, so reading is
 * streaming (an attachment's body is counted, never held) and never fails on malformed content:
 * what cannot be parsed is shown as best it can be. Message IDs ({@link #messageId},
 * {@link #references}, {@link #inReplyTo}) are kept without their angle brackets.
 */
public record MessageView(String subject, List<Address> from, List<Address> to, List<Address> cc, List<Address> bcc,
        List<Address> replyTo, Optional<Instant> date, String messageId, List<String> references, String inReplyTo,
        String text, Optional<String> html, boolean remoteContentBlocked, List<Part> attachments) {

    /** A mailbox; {@code name} is "" when the header gave none. */
    public record Address(String name, String address) {
    }

    /** An attachment or inline part, numbered from 1 in document order. */
    public record Part(int index, String filename, String contentType, long size, Optional<String> contentId, boolean inline) {
    }

    /** Sanitised HTML (a body fragment), and whether remote content was taken out of it. */
    public record Sanitised(String html, boolean remoteContentBlocked) {
    }

    /** The most text kept, in chars: more is of no use on a screen and costs memory. */
    static final int MAX_TEXT = 1 << 20;
    /** The most raw HTML read, in chars. */
    static final int MAX_HTML = 4 << 20;
    static final String CUT = "\n[… cut]";
    /** Generous but finite, so a hostile header cannot take the heap; bodies have no limit (they are streamed). */
    private static final MimeConfig CONFIG = MimeConfig.custom()
            .setStrictParsing(false)
            .setMaxHeaderCount(1000)
            .setMaxLineLen(64 << 10)
            .setMaxHeaderLen(64 << 10)
            .setMaxContentLen(-1)
            .build();
    /** What the lenient address parser gives for an address that was really there; anything else means it guessed. */
    private static final Pattern PLAUSIBLE = Pattern.compile("[^\\s<>()\\[\\],;:\\\\]+(@[^\\s<>()\\[\\],;:\\\\@]+)?");
    private static final Pattern MESSAGE_ID = Pattern.compile("<([^<>]*)>");
    private static final Pattern SAFE_DATA_IMAGE = Pattern.compile("(?i)data:image/(png|jpeg|gif|webp)[;,].*", Pattern.DOTALL);
    private static final Pattern BLOCKS = Pattern.compile(
            "p|div|br|li|tr|h[1-6]|blockquote|pre|table|ul|ol|dl|dt|dd|hr|caption|thead|tbody|tfoot");

    /**
     * jsoup's relaxed list (no style, class or id in it) narrowed: links only to the web and mail,
     * images also from inline parts ({@code cid:}) and {@code data:} (checked for raster types
     * after cleaning), legacy {@code background} images handled like remote images.
     */
    private static Safelist safelist() {
        Safelist list = Safelist.relaxed()
                .removeProtocols("a", "href", "ftp")
                .addProtocols("img", "src", "cid", "data")
                .addEnforcedAttribute("a", "rel", "noopener noreferrer nofollow")
                .addEnforcedAttribute("a", "target", "_blank");
        for (String tag : List.of("table", "tr", "td", "th")) {
            list.addAttributes(tag, "background").addProtocols(tag, "background", "http", "https", "cid");
        }
        return list;
    }

    private static final Safelist SAFELIST = safelist();

    public MessageView {
        from = List.copyOf(from);
        to = List.copyOf(to);
        cc = List.copyOf(cc);
        bcc = List.copyOf(bcc);
        replyTo = List.copyOf(replyTo);
        references = List.copyOf(references);
        attachments = List.copyOf(attachments);
    }

    /**
     * Reads {@code message}; only a failure to read the file itself throws. Remote images are
     * left in the HTML only when {@code allowRemoteContent}.
     */
    public static MessageView read(Path message, boolean allowRemoteContent) throws IOException {
        Map<String, String> headers = new HashMap<>();
        StringBuilder plain = new StringBuilder();
        StringBuilder rawHtml = new StringBuilder();
        boolean[] found = new boolean[2];
        List<Found> parts = new ArrayList<>();
        walk(message, new Visitor() {
            @Override
            public void field(Field field) {
                headers.putIfAbsent(field.getNameLowerCase(), body(field));
            }

            @Override
            public boolean leaf(InputStream body, MaximalBodyDescriptor d, Role role, int index) throws IOException {
                switch (role) {
                    case TEXT -> {
                        found[0] = true;
                        readText(body, d.getCharset(), MAX_TEXT, plain);
                    }
                    case HTML -> {
                        found[1] = true;
                        readText(body, d.getCharset(), MAX_HTML, rawHtml);
                    }
                    case ATTACHMENT -> {
                        Found part = new Found(index, filename(d), type(d), contentId(d),
                                "inline".equalsIgnoreCase(d.getContentDispositionType()));
                        parts.add(part);
                        count(body, part);
                    }
                }
                return true;
            }
        });

        Optional<String> html = Optional.empty();
        boolean blocked = false;
        Set<String> referenced = new HashSet<>();
        // Stored mail has CRLF line ends; the page wants \n, as the text derived from HTML has.
        String text = plain.toString().replace("\r\n", "\n");
        if (found[1]) {
            Cleaned clean = clean(rawHtml.toString(), allowRemoteContent, referenced);
            blocked = clean.remoteContentBlocked();
            html = Optional.of(clean.body().html());
            if (!found[0]) {
                StringBuilder derived = new StringBuilder();
                appendCapped(derived, plainText(clean.body()), MAX_TEXT);
                text = derived.toString();
            }
        }
        List<Part> attachments = new ArrayList<>();
        for (Found p : parts) {
            boolean inline = p.inline || (p.contentId != null && referenced.contains(cidKey(p.contentId)));
            attachments.add(new Part(p.index, p.filename, p.contentType, p.size, Optional.ofNullable(p.contentId), inline));
        }
        String subject = headers.getOrDefault("subject", "");
        return new MessageView(decode(subject).strip(), addresses(headers.get("from")), addresses(headers.get("to")),
                addresses(headers.get("cc")), addresses(headers.get("bcc")), addresses(headers.get("reply-to")), date(headers.get("date")),
                firstId(headers.get("message-id")), ids(headers.get("references")), firstId(headers.get("in-reply-to")),
                text, html, blocked, attachments);
    }

    /**
     * Streams attachment/part number {@code index} (as numbered in {@link #attachments()}) decoded
     * (base64/QP undone) to {@code out}; false if there's no such part.
     */
    public static boolean copyPart(Path message, int index, OutputStream out) throws IOException {
        boolean[] copied = {false};
        walk(message, (body, d, role, i) -> {
            if (role != Role.ATTACHMENT || i != index) {
                return true;
            }
            copied[0] = true;
            byte[] buffer = new byte[64 << 10];
            for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
                try {
                    out.write(buffer, 0, n);
                } catch (IOException e) {
                    throw new OwnFailure(e);
                }
            }
            return false;
        });
        return copied[0];
    }

    /** The HTML sanitiser on its own (exposed for tests and for the compose preview). */
    public static Sanitised sanitise(String html, boolean allowRemoteContent) {
        Cleaned clean = clean(html == null ? "" : html, allowRemoteContent, new HashSet<>());
        return new Sanitised(clean.body().html(), clean.remoteContentBlocked());
    }

    // ---- MIME structure

    private enum Role { TEXT, HTML, ATTACHMENT }

    private interface Visitor {
        /** A header field of the message itself (not of its parts). */
        default void field(Field field) {
        }

        /** One leaf part with its decoded body; false stops the walk. */
        boolean leaf(InputStream body, MaximalBodyDescriptor d, Role role, int index) throws IOException;
    }

    /** A part's facts while the walk is still going: whether the HTML refers to it is known only at the end. */
    private static final class Found {
        final int index;
        final String filename;
        final String contentType;
        final String contentId;
        final boolean inline;
        long size;

        Found(int index, String filename, String contentType, String contentId, boolean inline) {
            this.index = index;
            this.filename = filename;
            this.contentType = contentType;
            this.contentId = contentId;
            this.inline = inline;
        }
    }

    /**
     * A failure of the file or of the caller's stream, told apart from the IOExceptions mime4j
     * raises about malformed content (line too long, too many headers), which only end the walk.
     */
    private static final class OwnFailure extends IOException {
        OwnFailure(IOException cause) {
            super(cause);
        }
    }

    /** The message file, its failures marked as {@link OwnFailure}. */
    private static final class FileInput extends FilterInputStream {
        FileInput(Path path) throws IOException {
            super(new BufferedInputStream(Files.newInputStream(path), 64 << 10));
        }

        @Override
        public int read() throws IOException {
            try {
                return super.read();
            } catch (IOException e) {
                throw new OwnFailure(e);
            }
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            try {
                return super.read(b, off, len);
            } catch (IOException e) {
                throw new OwnFailure(e);
            }
        }
    }

    /**
     * Walks the leaf parts in document order and gives each its role, the same way for
     * {@link #read} and {@link #copyPart} so that part numbers agree. The first text/plain and
     * the first text/html that are not attachments are the bodies; every other leaf, including
     * a whole message/rfc822 (not descended into), is a numbered part.
     */
    private static void walk(Path message, Visitor visitor) throws IOException {
        try (InputStream in = new FileInput(message)) {
            MimeTokenStream stream = new MimeTokenStream(CONFIG, DecodeMonitor.SILENT,
                    new DefaultBodyDescriptorBuilder(null, LenientFieldParser.getParser(), DecodeMonitor.SILENT));
            stream.setRecursionMode(RecursionMode.M_NO_RECURSE);
            stream.parse(in);
            boolean topHeader = true;
            boolean text = false;
            boolean html = false;
            int index = 0;
            try {
                for (EntityState state = stream.next(); state != EntityState.T_END_OF_STREAM; state = stream.next()) {
                    if (state == EntityState.T_FIELD && topHeader) {
                        visitor.field(stream.getField());
                    } else if (state == EntityState.T_END_HEADER) {
                        topHeader = false;
                    } else if (state == EntityState.T_BODY) {
                        topHeader = false;
                        BodyDescriptor bd = stream.getBodyDescriptor();
                        if (!(bd instanceof MaximalBodyDescriptor d)) {
                            continue;
                        }
                        String type = type(d);
                        boolean attachment = "attachment".equalsIgnoreCase(d.getContentDispositionType()) || !filename(d).isEmpty();
                        Role role;
                        if (!text && !attachment && type.equals("text/plain")) {
                            text = true;
                            role = Role.TEXT;
                        } else if (!html && !attachment && type.equals("text/html")) {
                            html = true;
                            role = Role.HTML;
                        } else {
                            role = Role.ATTACHMENT;
                            index++;
                        }
                        if (!visitor.leaf(stream.getDecodedInputStream(), d, role, index)) {
                            return;
                        }
                    }
                }
            } catch (MimeException | IOException | RuntimeException e) {
                // Malformed content: what was read so far is the view. The file's own failures are not.
                for (Throwable t = e; t != null; t = t.getCause()) {
                    if (t instanceof OwnFailure own) {
                        throw (IOException) own.getCause();
                    }
                }
            }
        } catch (OwnFailure e) {
            throw (IOException) e.getCause();
        }
    }

    /** Decoded bytes of a part, counted and dropped; the count so far stays if the part breaks off. */
    private static void count(InputStream body, Found part) throws IOException {
        byte[] buffer = new byte[64 << 10];
        for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
            part.size += n;
        }
    }

    /** Appends a body's text up to {@code max} chars, then the cut mark; what was read stays if it breaks off. */
    private static void readText(InputStream body, String charset, int max, StringBuilder out) throws IOException {
        Reader reader = new InputStreamReader(body, decoder(charset));
        char[] buffer = new char[16 << 10];
        for (int n = reader.read(buffer); n >= 0; n = reader.read(buffer)) {
            if (!appendCapped(out, new String(buffer, 0, n), max)) {
                return;
            }
        }
    }

    /** Appends up to the cap; false (and the cut mark) once it is reached. */
    private static boolean appendCapped(StringBuilder out, String s, int max) {
        int room = max - out.length();
        if (s.length() <= room) {
            out.append(s);
            return true;
        }
        int end = room;
        if (end > 0 && Character.isHighSurrogate(s.charAt(end - 1))) {
            end--;
        }
        out.append(s, 0, end).append(CUT);
        return false;
    }

    /** The declared charset, US-ASCII read as its superset UTF-8, anything unknown as UTF-8; bad bytes replaced. */
    private static CharsetDecoder decoder(String name) {
        Charset charset = null;
        try {
            charset = name == null ? null : CharsetUtil.lookup(name.strip());
        } catch (RuntimeException e) {
            // an illegal name: unknown
        }
        if (charset == null || charset.equals(StandardCharsets.US_ASCII)) {
            charset = StandardCharsets.UTF_8;
        }
        return charset.newDecoder().onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
    }

    private static String type(MaximalBodyDescriptor d) {
        return d.getMimeType() == null ? "" : d.getMimeType().toLowerCase(Locale.ROOT);
    }

    private static String filename(MaximalBodyDescriptor d) {
        String name = d.getContentDispositionFilename();
        if (name == null || name.isBlank()) {
            name = d.getContentTypeParameters().get("name");
        }
        return name == null ? "" : decode(name).strip();
    }

    private static String contentId(MaximalBodyDescriptor d) {
        String id = d.getContentId();
        if (id == null) {
            return null;
        }
        id = id.strip();
        if (id.startsWith("<") && id.endsWith(">") && id.length() >= 2) {
            id = id.substring(1, id.length() - 1).strip();
        }
        return id.isEmpty() ? null : id;
    }

    // ---- Headers

    /**
     * A header field's value, unfolded. Raw 8-bit bytes are read as UTF-8 (RFC 6532 allows it in
     * headers) or, when they are not UTF-8, as Latin-1, rather than lost to mime4j's ASCII.
     */
    private static String body(Field field) {
        String value;
        ByteSequence raw = field.getRaw();
        if (raw != null) {
            byte[] bytes = raw.toByteArray();
            String all;
            try {
                all = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
            } catch (CharacterCodingException e) {
                all = new String(bytes, StandardCharsets.ISO_8859_1);
            }
            int colon = all.indexOf(':');
            value = colon < 0 ? field.getBody() : all.substring(colon + 1);
        } else {
            value = field.getBody();
        }
        return value == null ? "" : MimeUtil.unfold(value).strip();
    }

    /** RFC 2047 encoded words decoded, leniently. */
    private static String decode(String value) {
        try {
            return DecoderUtil.decodeEncodedWords(value, DecodeMonitor.SILENT);
        } catch (RuntimeException e) {
            return value;
        }
    }

    /** An address header's mailboxes; one with the raw text as its name when it does not parse. */
    private static List<Address> addresses(String value) {
        if (value == null || value.isBlank()) {
            return List.of();
        }
        List<Address> out = new ArrayList<>();
        try {
            AddressList list = LenientAddressParser.DEFAULT.parseAddressList(value);
            for (org.apache.james.mime4j.dom.address.Address a : list) {
                if (a instanceof Mailbox m) {
                    out.add(address(m));
                } else if (a instanceof Group g) {
                    if (g.getMailboxes().isEmpty()) {
                        // "undisclosed-recipients:;" still says something
                        out.add(new Address(decode(nonNull(g.getName())).strip(), ""));
                    }
                    g.getMailboxes().forEach(m -> out.add(address(m)));
                }
            }
        } catch (RuntimeException e) {
            out.clear();
        }
        if (out.isEmpty() || out.stream().anyMatch(a -> a.address().isEmpty() ? a.name().isEmpty() : !PLAUSIBLE.matcher(a.address()).matches())) {
            return List.of(new Address(decode(value).strip(), ""));
        }
        return out;
    }

    private static Address address(Mailbox m) {
        String address = m.getLocalPart() == null || m.getLocalPart().isEmpty() ? "" : m.getAddress();
        return new Address(decode(nonNull(m.getName())).strip(), nonNull(address));
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }

    private static Optional<Instant> date(String value) {
        if (value == null || value.isBlank()) {
            return Optional.empty();
        }
        try {
            ParsedField field = LenientFieldParser.getParser().parse(new RawField("Date", value), DecodeMonitor.SILENT);
            if (field instanceof DateTimeField dt) {
                Date date = dt.getDate();
                return date == null ? Optional.empty() : Optional.of(date.toInstant());
            }
        } catch (RuntimeException e) {
            // unparseable: no date
        }
        return Optional.empty();
    }

    /** The first {@code <id>} in a header, without brackets; the bare text when it has none. */
    private static String firstId(String value) {
        List<String> ids = ids(value);
        return ids.isEmpty() ? "" : ids.getFirst();
    }

    private static List<String> ids(String value) {
        if (value == null || value.isBlank()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        Matcher m = MESSAGE_ID.matcher(value);
        while (m.find()) {
            if (!m.group(1).isBlank()) {
                out.add(m.group(1).strip());
            }
        }
        if (out.isEmpty()) {
            for (String word : value.strip().split("\\s+")) {
                if (!word.isEmpty()) {
                    out.add(word);
                }
            }
        }
        return out;
    }

    // ---- HTML

    private record Cleaned(Element body, boolean remoteContentBlocked) {
    }

    /**
     * Cleans {@code html} into a body, taking out remote content unless allowed, and collects
     * the content IDs its images refer to.
     */
    private static Cleaned clean(String html, boolean allowRemoteContent, Set<String> cids) {
        Document clean = new Cleaner(SAFELIST).clean(Jsoup.parse(html));
        clean.outputSettings().prettyPrint(false);
        boolean blocked = false;
        for (Element img : clean.body().select("img")) {
            if (tiny(img.attr("width")) || tiny(img.attr("height"))) {
                img.remove(); // a tracking pixel: nothing to see, only a signal to the sender
                continue;
            }
            blocked |= image(img, "src", allowRemoteContent, cids);
            if (!img.hasAttr("src") && !img.hasAttr("data-blocked-src")) {
                img.remove(); // nothing left to show
            }
        }
        for (Element e : clean.body().select("[background]")) {
            blocked |= image(e, "background", allowRemoteContent, cids);
        }
        return new Cleaned(clean.body(), blocked);
    }

    /** Vets one image URL; true when it was remote and blocked. */
    private static boolean image(Element e, String attribute, boolean allowRemoteContent, Set<String> cids) {
        String url = e.attr(attribute).strip();
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.startsWith("cid:")) {
            cids.add(cidKey(url.substring(4)));
        } else if (lower.startsWith("data:")) {
            if (!attribute.equals("src") || !SAFE_DATA_IMAGE.matcher(url).matches()) {
                e.removeAttr(attribute);
            }
        } else if (lower.startsWith("http:") || lower.startsWith("https:")) {
            if (!allowRemoteContent) {
                e.removeAttr(attribute);
                e.attr("data-blocked-" + attribute, url);
                return true;
            }
        } else {
            e.removeAttr(attribute);
        }
        return false;
    }

    private static boolean tiny(String dimension) {
        String digits = dimension.strip().replaceFirst("(?i)px$", "").strip();
        return !digits.isEmpty() && digits.length() < 4 && digits.chars().allMatch(Character::isDigit) && Integer.parseInt(digits) <= 1;
    }

    /** A content ID as compared between cid: URLs (RFC 2392, percent-encoded) and Content-ID headers. */
    private static String cidKey(String id) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            int hi = i + 2 < id.length() ? Character.digit(id.charAt(i + 1), 16) : -1;
            int lo = i + 2 < id.length() ? Character.digit(id.charAt(i + 2), 16) : -1;
            if (c == '%' && hi >= 0 && lo >= 0) {
                out.append((char) (hi * 16 + lo));
                i += 2;
            } else {
                out.append(c);
            }
        }
        String key = out.toString().strip();
        if (key.startsWith("<") && key.endsWith(">") && key.length() >= 2) {
            key = key.substring(1, key.length() - 1);
        }
        return key.toLowerCase(Locale.ROOT);
    }

    /** Readable text of a cleaned body: line breaks where blocks end, whitespace as a browser would show it. */
    private static String plainText(Element body) {
        StringBuilder out = new StringBuilder();
        new NodeVisitor() {
            @Override
            public void head(Node node, int depth) {
                if (node instanceof TextNode t) {
                    boolean pre = t.parent() instanceof Element p && (p.tagName().equals("pre") || p.closest("pre") != null);
                    out.append(pre ? t.getWholeText() : t.text());
                } else if (node instanceof Element e && e.tagName().equals("br")) {
                    out.append('\n');
                }
            }

            @Override
            public void tail(Node node, int depth) {
                if (node instanceof Element e && !e.tagName().equals("br") && BLOCKS.matcher(e.tagName()).matches()
                        && !out.isEmpty() && out.charAt(out.length() - 1) != '\n') {
                    out.append('\n');
                }
            }
        }.traverse(body);
        return out.toString().replaceAll("[ \t]+\n", "\n").replaceAll("\n{3,}", "\n\n").strip();
    }
}
