package org.intrustd.mail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;
import org.intrustd.appkit.Problem;
import org.intrustd.appkit.Replies;
import org.intrustd.appkit.Tunnel;
import org.intrustd.core.access.TrustedHeaders;
import org.intrustd.core.id.ApplianceId;

/**
 * The mail app's HTTP API (docs/mail.md): the webmail's calls, made by a logged-in persona on
 * their own mailbox, and {@code POST /api/deliver}, made by other appliances' mail apps through
 * their daemons (docs/spec/mail.md). Nothing a caller sends reaches a mailbox unless the daemon
 * vouched for who sent it.
 */
final class MailApi extends Handler.Abstract {
    private static final System.Logger LOG = System.getLogger("mail");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The largest message taken, whole (a 100 MiB attachment, base64, fits). */
    static final long MAX_MESSAGE = 160L << 20;
    private static final int MAX_JSON = 4 << 20;
    private static final int MAX_RECIPIENTS = 100;


    private final Path data;
    private final MailStore store;
    private final Inbound inbound;
    private final Outbox outbox;
    private final Accounts accounts;
    private final External external;
    private final Uploads uploads;
    private final Directory directory;
    private final ImapBridge imap;
    private final AtomicReference<ApplianceId> self = new AtomicReference<>();

    MailApi(Path data, MailStore store, Inbound inbound, Outbox outbox, Accounts accounts, External external, Directory directory)
            throws IOException {
        this.data = data;
        this.directory = directory;
        this.store = store;
        this.inbound = inbound;
        this.outbox = outbox;
        this.accounts = accounts;
        this.external = external;
        this.uploads = new Uploads(data);
        this.imap = new ImapBridge(data);
        Path known = data.resolve("appliance-id");
        if (Files.exists(known)) {
            ApplianceId.parse(Files.readString(known).strip()).ifPresent(self::set);
        }
    }

    /** This appliance, as its daemon names it on every request (kept for bounces written between requests). */
    Optional<ApplianceId> self() {
        return Optional.ofNullable(self.get());
    }

    private ApplianceId learnSelf(TrustedHeaders.Caller caller) throws IOException {
        ApplianceId id = ApplianceId.parse(caller.appliance())
                .orElseThrow(() -> new Problem(400, "the daemon named a malformed appliance ID"));
        if (!id.equals(self.getAndSet(id))) {
            Files.writeString(data.resolve("appliance-id"), id.toString());
        }
        return id;
    }

    @Override
    public boolean handle(Request rq, Response rs, Callback cb) {
        String path = Request.getPathInContext(rq);
        String method = rq.getMethod();
        try {
            if (path.equals("/health")) {
                Replies.send(rs, cb, 200, JSON.createObjectNode().put("status", "ok"));
                return true;
            }
            if (!path.startsWith("/api/")) {
                throw new Problem(404, "there is nothing at " + path);
            }
            TrustedHeaders.Caller caller = TrustedHeaders.parse(name -> rq.getHeaders().get(name));
            ApplianceId me = learnSelf(caller);
            route(method, path.substring(5).split("/", -1), caller, me, rq, rs, cb);
        } catch (Problem e) {
            Replies.problem(rs, cb, e.status, e.getMessage());
        } catch (Inbound.Refused e) {
            Replies.problem(rs, cb, e.status, e.getMessage());
        } catch (IllegalArgumentException e) {
            Replies.problem(rs, cb, 400, e.getMessage());
        } catch (NoSuchFileException e) {
            String what = e.getMessage();
            Replies.problem(rs, cb, 404, what != null && what.startsWith("no upload") ? what : "no such message");
        } catch (Exception e) {
            LOG.log(Level.WARNING, method + " " + path + " failed", e);
            Replies.problem(rs, cb, 500, "the mail app failed: " + e.getMessage());
        }
        return true;
    }

    private void route(String method, String[] p, TrustedHeaders.Caller caller, ApplianceId me, Request rq, Response rs, Callback cb)
            throws Exception {
        if (p[0].equals("deliver")) {
            only(method, "POST");
            deliver(me, rq, rs, cb);
            return;
        }
        String persona = persona(caller);
        store.ensureMailbox(persona);
        store.refreshIfChanged(persona); // a desktop client over IMAP may have changed the files
        MailAddress address = MailAddress.of(persona, me);
        switch (p[0]) {
            case "me" -> {
                only(method, "GET");
                Replies.send(rs, cb, 200, JSON.createObjectNode().put("persona", persona).put("address", address.toString()));
            }
            case "folders" -> {
                only(method, "GET");
                ArrayNode out = JSON.createArrayNode();
                for (var e : store.counts(persona).entrySet()) {
                    out.addObject().put("id", e.getKey().id()).put("total", e.getValue()[0]).put("unread", e.getValue()[1]);
                }
                Replies.send(rs, cb, 200, JSON.createObjectNode().set("folders", out));
            }
            case "messages" -> messages(method, p, persona, rq, rs, cb);
            case "send" -> {
                only(method, "POST");
                send(address, persona, readJson(rq), rs, cb);
            }
            case "imap" -> {
                only(method, "GET");
                imap(persona, rq, rs, cb);
            }
            case "smtp" -> {
                only(method, "GET");
                smtp(persona, address, rq, rs, cb);
            }
            case "contacts" -> {
                only(method, "GET");
                contacts(me, persona, Request.extractQueryParameters(rq), rs, cb);
            }
            case "drafts" -> {
                only(method, "POST");
                saveDraft(address, persona, readJson(rq), rs, cb);
            }
            case "outbox" -> {
                if (p.length == 2 && p[1].equals("retry")) {
                    only(method, "POST");
                    outbox.retryNow();
                    rs.setStatus(204);
                    cb.succeeded();
                    return;
                }
                only(method, "GET");
                ArrayNode out = JSON.createArrayNode();
                for (Outbox.Entry e : outbox.pending(persona)) {
                    ObjectNode o = out.addObject().put("route", e.route()).put("queued", e.created())
                            .put("nextAttempt", e.nextAttempt()).put("attempts", e.attempts()).put("lastError", e.lastError());
                    e.recipients().forEach(o.putArray("recipients")::add);
                }
                ObjectNode answer = JSON.createObjectNode();
                answer.set("outbox", out);
                ArrayNode recent = answer.putArray("recent");
                for (Outbox.Done d : outbox.recent(persona)) {
                    ObjectNode o = recent.addObject().put("route", d.route()).put("outcome", d.outcome()).put("finished", d.finished())
                            .put("latencyMillis", d.latencyMillis()).put("callMillis", d.callMillis()).put("attempts", d.attempts());
                    d.recipients().forEach(o.putArray("recipients")::add);
                }
                Replies.send(rs, cb, 200, answer);
            }
            case "senders" -> senders(method, persona, rq, rs, cb);
            case "account" -> account(method, p, persona, rq, rs, cb);
            case "uploads" -> {
                only(method, "POST");
                if (rq.getLength() > Uploads.MAX_TOTAL) {
                    throw new Problem(413, "an attachment is at most " + (Uploads.MAX_TOTAL >> 20) + " MiB");
                }
                Fields q = Request.extractQueryParameters(rq);
                Uploads.Upload u;
                try (InputStream in = Content.Source.asInputStream(rq)) {
                    u = uploads.put(persona, q.getValue("name"), rq.getHeaders().get(HttpHeader.CONTENT_TYPE), in);
                } catch (Uploads.TooLarge e) {
                    throw new Problem(413, e.getMessage());
                }
                Replies.send(rs, cb, 201, JSON.createObjectNode().put("id", u.id()).put("filename", u.filename())
                        .put("contentType", u.contentType()).put("size", u.size()));
            }
            default -> throw new Problem(404, "no such route: /api/" + p[0]);
        }
    }

    private static String persona(TrustedHeaders.Caller caller) {
        String persona = caller.persona().orElseThrow(() -> new Problem(401, "log in to read your mail"));
        if (!MailStore.validPersona(persona)) {
            throw new Problem(403, "this persona's name cannot be a mail address");
        }
        return persona;
    }

    // ------------------------------------------------------------ delivery from other appliances

    private void deliver(ApplianceId me, Request rq, Response rs, Callback cb) throws Exception {
        String peerHeader = rq.getHeaders().get(TrustedHeaders.PEER);
        if (peerHeader == null || peerHeader.isBlank()) {
            throw new Problem(403, "mail is delivered here only by other appliances, through their link");
        }
        ApplianceId peer = ApplianceId.parse(peerHeader.strip()).orElseThrow(() -> new Problem(400, "a malformed peer ID"));
        long length = rq.getLength();
        if (length > MAX_MESSAGE) {
            throw new Problem(413, "a message is at most " + (MAX_MESSAGE >> 20) + " MiB");
        }
        boolean paired = "true".equals(rq.getHeaders().get(TrustedHeaders.PEER_PAIRED));
        if (!inbound.admit(peer, paired)) {
            rs.getHeaders().put(HttpHeader.RETRY_AFTER, "60");
            throw new Problem(429, "too many messages from " + peer + "; try again in a minute");
        }
        Fields q = Request.extractQueryParameters(rq);
        List<String> to = q.getValues("to") == null ? List.of() : q.getValues("to");
        Path file = inbound.incomingFile();
        try (InputStream in = Content.Source.asInputStream(rq); OutputStream out = Files.newOutputStream(file)) {
            byte[] buf = new byte[64 * 1024];
            long total = 0;
            for (int n; (n = in.read(buf)) > 0;) {
                total += n;
                if (total > MAX_MESSAGE) {
                    throw new Problem(413, "a message is at most " + (MAX_MESSAGE >> 20) + " MiB");
                }
                out.write(buf, 0, n);
            }
        } catch (IOException | Problem e) {
            Files.deleteIfExists(file);
            throw e;
        }
        List<Inbound.Result> results = inbound.deliver(me, peer, paired, value(q, "id"), value(q, "from"), to, file);
        ArrayNode out = JSON.createArrayNode();
        results.forEach(r -> out.addObject().put("address", r.address()).put("status", r.status()));
        Replies.send(rs, cb, 200, JSON.createObjectNode().set("recipients", out));
    }

    private static String value(Fields q, String name) {
        String v = q.getValue(name);
        if (v == null) {
            throw new Problem(400, "the query names no " + name);
        }
        return v;
    }

    // ------------------------------------------------------------ sending

    /**
     * A message as the webmail writes it: recipients, subject, text, what it answers, and its
     * attachments: uploads ({@code attachments}) and parts of messages already here
     * ({@code keep}: [{message, part}], for a forward or a draft opened again), each copied to an
     * upload of its own. Every upload named is the caller's to remove once the message is written.
     */
    private Composer.Draft draft(String persona, JsonNode body) throws IOException {
        List<Uploads.Upload> attachments = new ArrayList<>();
        List<Uploads.Upload> copies = new ArrayList<>();
        try {
            for (String id : strings(body, "attachments")) {
                attachments.add(uploads.get(persona, id));
            }
            JsonNode keep = body.path("keep");
            if (!keep.isMissingNode() && !keep.isNull() && (!keep.isArray() || keep.size() > 100)) {
                throw new Problem(400, "keep is a list of up to 100 {message, part}");
            }
            for (JsonNode k : keep) {
                long id = k.path("message").asLong(-1);
                int index = k.path("part").asInt(-1);
                Path file = store.get(persona, id).orElseThrow(() -> new Problem(404, "no message " + id + " to take a part from"))
                        .getValue();
                MessageView.Part part = MessageView.read(file, false).attachments().stream().filter(a -> a.index() == index)
                        .findFirst().orElseThrow(() -> new Problem(404, "message " + id + " has no part " + index));
                // A copy of its own, as an upload: the message it came from may go before this one is sent.
                Uploads.Upload u = uploads.put(persona, part.filename().isBlank() ? "part-" + index : part.filename(),
                        part.contentType(), out -> MessageView.copyPart(file, index, out));
                copies.add(u);
                attachments.add(u);
            }
            if (attachments.stream().mapToLong(Uploads.Upload::size).sum() > Uploads.MAX_TOTAL) {
                throw new Problem(413, "a message's attachments are at most " + (Uploads.MAX_TOTAL >> 20) + " MiB together");
            }
        } catch (RuntimeException | IOException e) {
            for (Uploads.Upload u : copies) {
                uploads.remove(persona, u.id());
            }
            throw e;
        }
        return new Composer.Draft(strings(body, "to"), strings(body, "cc"), strings(body, "bcc"),
                body.path("subject").asText(""), body.path("text").asText(""),
                Optional.ofNullable(body.path("inReplyTo").textValue()).filter(s -> !s.isBlank()), strings(body, "references"),
                attachments);
    }

    private void send(MailAddress from, String persona, JsonNode body, Response rs, Callback cb) throws Exception {
        Optional<Long> fromDraft = draftId(persona, body);
        List<String> all = new ArrayList<>(strings(body, "to"));
        all.addAll(strings(body, "cc"));
        all.addAll(strings(body, "bcc"));
        if (all.isEmpty() || all.size() > MAX_RECIPIENTS) {
            throw new Problem(400, "a message goes to 1 to " + MAX_RECIPIENTS + " recipients");
        }
        List<MailAddress> intrustd = new ArrayList<>();
        List<String> ordinary = new ArrayList<>();
        for (String a : all) {
            // "Name <address>" as well as a bare address.
            Optional<MailAddress> parsed = MailAddress.parse(a.strip()).or(() -> bareAddress(a).flatMap(MailAddress::parse));
            if (parsed.isPresent()) {
                if (!intrustd.contains(parsed.get())) {
                    intrustd.add(parsed.get());
                }
            } else if (MailAddress.looksIntrustd(bareAddress(a).orElse(a.strip()))) {
                throw new Problem(400, "not a valid Intrustd address: " + Inbound.printable(a));
            } else {
                String plain = bareAddress(a).orElseThrow(() -> new Problem(400, "not an address: " + Inbound.printable(a)));
                if (!ordinary.contains(plain)) {
                    ordinary.add(plain);
                }
            }
        }
        Optional<Accounts.Account> account = accounts.get(persona);
        if (!ordinary.isEmpty() && account.isEmpty()) {
            throw new Problem(422, "mail to ordinary addresses (" + Inbound.printable(ordinary.getFirst())
                    + ") goes through an external account: set one up first");
        }
        Composer.Draft draft = draft(persona, body);
        List<Uploads.Upload> attachments = draft.attachments();
        // One Message-ID; two copies when both kinds of recipient are named, since each must come
        // from its own kind of address (an appliance refuses a From of another).
        String messageId = Composer.messageId(MailAddress.domain(from.appliance()));
        ObjectNode answer = JSON.createObjectNode().put("messageId", messageId.substring(1, messageId.length() - 1));
        ArrayNode local = answer.putArray("delivered");
        ArrayNode queued = answer.putArray("queued");
        Optional<Path> linkCopy = intrustd.isEmpty() ? Optional.empty() : Optional.of(outbox.spoolFile());
        Optional<Path> externalCopy = ordinary.isEmpty() ? Optional.empty() : Optional.of(outbox.spoolFile());
        if (linkCopy.isPresent()) {
            try (OutputStream out = Files.newOutputStream(linkCopy.get())) {
                Composer.write(from.toString(), persona, messageId, draft, out);
            }
        }
        if (externalCopy.isPresent()) {
            Accounts.Account a = account.get();
            try (OutputStream out = Files.newOutputStream(externalCopy.get())) {
                Composer.write(a.address(), a.name().isBlank() ? persona : a.name(), messageId, draft, out);
            }
        }
        // The sender's copy, in Sent: as the appliances got it, or else as the provider did.
        Path sent = store.tempFile(persona);
        Files.copy(linkCopy.or(() -> externalCopy).orElseThrow(), sent);
        MailStore.Summary copy = store.add(persona, MailStore.Folder.SENT, sent, EnumSet.of(MailStore.Flag.SEEN),
                linkCopy.map(x -> from.mailbox().toString()));
        answer.put("sent", copy.id());
        if (linkCopy.isPresent()) {
            sendOverLinks(from, persona, intrustd, linkCopy.get(), local, queued);
        }
        if (externalCopy.isPresent()) {
            outbox.queue(persona, externalCopy.get(), account.get().address(), Map.of(Transport.EXTERNAL, ordinary));
            ordinary.forEach(queued::add);
        }
        for (Uploads.Upload u : attachments) {
            uploads.remove(persona, u.id()); // in the message now
        }
        discardDraft(persona, fromDraft); // sent: no longer a draft
        Replies.send(rs, cb, 202, answer);
    }

    /** Deletes a draft that was sent or saved anew; one that went meanwhile (another tab) is gone already. */
    private void discardDraft(String persona, Optional<Long> id) throws IOException {
        if (id.isPresent()) {
            try {
                store.delete(persona, id.get());
            } catch (NoSuchFileException e) {
                // deleted meanwhile
            }
        }
    }

    /** The draft a request names ({@code draft}), if any: it must be one of the persona's Drafts. */
    private Optional<Long> draftId(String persona, JsonNode body) throws IOException {
        JsonNode d = body.path("draft");
        if (d.isMissingNode() || d.isNull()) {
            return Optional.empty();
        }
        long id = d.asLong(-1);
        MailStore.Summary s = store.get(persona, id).orElseThrow(() -> new Problem(404, "no draft " + id)).getKey();
        if (s.folder() != MailStore.Folder.DRAFTS) {
            throw new Problem(409, "message " + id + " is not a draft");
        }
        return Optional.of(id);
    }

    /**
     * {@code POST /api/drafts}: files the message being written in Drafts, as {@code /api/send}
     * takes it (any recipients, or none, kept as typed), replacing the draft it names
     * ({@code draft}) once the new one is filed: a kill between the two leaves both, never neither.
     */
    private void saveDraft(MailAddress from, String persona, JsonNode body, Response rs, Callback cb) throws Exception {
        Optional<Long> previous = draftId(persona, body);
        if (strings(body, "to").size() + strings(body, "cc").size() + strings(body, "bcc").size() > MAX_RECIPIENTS) {
            throw new Problem(400, "a message goes to at most " + MAX_RECIPIENTS + " recipients");
        }
        Composer.Draft draft = draft(persona, body);
        Path file = store.tempFile(persona);
        try {
            try (OutputStream out = Files.newOutputStream(file)) {
                Composer.write(from.toString(), persona, Composer.messageId(MailAddress.domain(from.appliance())), draft, true, out);
            }
            MailStore.Summary saved = store.add(persona, MailStore.Folder.DRAFTS, file,
                    EnumSet.of(MailStore.Flag.SEEN, MailStore.Flag.DRAFT), Optional.empty());
            discardDraft(persona, previous);
            Replies.send(rs, cb, 201, summary(saved));
        } finally {
            Files.deleteIfExists(file); // filed under a name of its own, or not at all
            for (Uploads.Upload u : draft.attachments()) {
                uploads.remove(persona, u.id());
            }
        }
    }

    /** A recipient as typed ({@code Name <a@example.org>} or bare), bare; empty if it is no address. */
    private static Optional<String> bareAddress(String text) {
        try {
            return Optional.of(new jakarta.mail.internet.InternetAddress(text.strip(), true).getAddress());
        } catch (jakarta.mail.internet.AddressException e) {
            return Optional.empty();
        }
    }

    /** Delivers to personas here at once and queues the rest per appliance; writing to someone accepts their answers. */
    private void sendOverLinks(MailAddress from, String persona, List<MailAddress> recipients, Path message, ArrayNode local,
            ArrayNode queued) throws IOException, Inbound.Refused {
        Map<String, Inbound.Verdict> known = inbound.senders(persona);
        for (MailAddress r : recipients) {
            if (!known.containsKey(r.mailbox().toString())) {
                inbound.judge(persona, r.mailbox().toString(), Optional.of(Inbound.Verdict.ACCEPTED));
            }
        }
        ApplianceId me = from.appliance();
        List<MailAddress> here = recipients.stream().filter(r -> r.appliance().equals(me)).toList();
        List<MailAddress> away = recipients.stream().filter(r -> !r.appliance().equals(me)).toList();
        if (!here.isEmpty()) {
            Path forHere = inbound.incomingFile();
            Files.copy(message, forHere);
            for (Inbound.Result r : inbound.deliver(me, me, true, DeliveryId.next(), from.toString(),
                    here.stream().map(MailAddress::toString).toList(), forHere)) {
                local.addObject().put("address", r.address()).put("status", r.status());
            }
        }
        if (away.isEmpty()) {
            Files.deleteIfExists(message);
        } else {
            outbox.queue(persona, message, from.toString(), Transport.byAppliance(away));
            away.forEach(a -> queued.add(a.toString()));
        }
    }

    private static List<String> strings(JsonNode body, String field) {
        JsonNode n = body.path(field);
        if (n.isMissingNode() || n.isNull()) {
            return List.of();
        }
        if (!n.isArray()) {
            throw new Problem(400, field + " is a list of addresses");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode e : n) {
            if (!e.isTextual()) {
                throw new Problem(400, field + " is a list of strings");
            }
            out.add(e.asText());
        }
        return out;
    }

    // ------------------------------------------------------------ reading

    private void messages(String method, String[] p, String persona, Request rq, Response rs, Callback cb) throws Exception {
        Fields q = Request.extractQueryParameters(rq);
        if (p.length == 1 || (p.length == 2 && p[1].isEmpty())) {
            only(method, "GET");
            Optional<MailStore.Folder> folder = Optional.ofNullable(q.getValue("folder"))
                    .map(f -> MailStore.Folder.parse(f).orElseThrow(() -> new Problem(400, "no folder " + Inbound.printable(f))));
            long before = number(q.getValue("before"), 0);
            int limit = (int) number(q.getValue("limit"), 50);
            ArrayNode out = JSON.createArrayNode();
            for (MailStore.Summary s : store.list(persona, folder, Optional.ofNullable(q.getValue("q")), before, limit)) {
                out.add(summary(s));
            }
            Replies.send(rs, cb, 200, JSON.createObjectNode().set("messages", out));
            return;
        }
        long id = number(p[1], -1);
        Map.Entry<MailStore.Summary, Path> m = store.get(persona, id).orElseThrow(() -> new Problem(404, "no such message"));
        if (p.length == 2) {
            switch (method) {
                case "GET" -> {
                    MailStore.Summary s = m.getKey();
                    if (!s.flags().contains(MailStore.Flag.SEEN) && !"1".equals(q.getValue("peek"))) {
                        Set<MailStore.Flag> flags = EnumSet.of(MailStore.Flag.SEEN);
                        flags.addAll(s.flags());
                        s = store.update(persona, id, s.folder(), flags);
                    }
                    Path file = store.get(persona, id).orElseThrow().getValue();
                    Replies.send(rs, cb, 200, view(s, MessageView.read(file, "1".equals(q.getValue("remote")))));
                }
                case "PATCH" -> {
                    JsonNode body = readJson(rq);
                    MailStore.Summary s = m.getKey();
                    MailStore.Folder folder = body.has("folder") ? MailStore.Folder.parse(body.path("folder").asText())
                            .orElseThrow(() -> new Problem(400, "no such folder")) : s.folder();
                    Set<MailStore.Flag> flags = body.has("flags") ? flags(body.get("flags")) : s.flags();
                    Replies.send(rs, cb, 200, summary(store.update(persona, id, folder, flags)));
                }
                case "DELETE" -> {
                    if (m.getKey().folder() == MailStore.Folder.TRASH) {
                        store.delete(persona, id);
                    } else {
                        store.update(persona, id, MailStore.Folder.TRASH, m.getKey().flags());
                    }
                    rs.setStatus(204);
                    cb.succeeded();
                }
                default -> throw new Problem(405, "GET, PATCH or DELETE a message");
            }
            return;
        }
        only(method, "GET");
        if (p.length == 3 && p[2].equals("raw")) {
            rs.setStatus(200);
            rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "message/rfc822");
            rs.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            rs.getHeaders().put(HttpHeader.CONTENT_LENGTH, Files.size(m.getValue()));
            try (InputStream in = Files.newInputStream(m.getValue()); OutputStream out = Content.Sink.asOutputStream(rs)) {
                in.transferTo(out);
            }
            cb.succeeded();
        } else if (p.length == 4 && p[2].equals("parts")) {
            int index = (int) number(p[3], -1);
            MessageView v = MessageView.read(m.getValue(), false);
            MessageView.Part part = v.attachments().stream().filter(a -> a.index() == index).findFirst()
                    .orElseThrow(() -> new Problem(404, "no part " + index));
            rs.setStatus(200);
            // Never rendered by the browser as a page of the app's origin: an attachment is data.
            rs.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
            rs.getHeaders().put(HttpHeader.CONTENT_DISPOSITION, "attachment; filename*=UTF-8''"
                    + java.net.URLEncoder.encode(part.filename().isBlank() ? "part-" + index : part.filename(), StandardCharsets.UTF_8)
                            .replace("+", "%20"));
            rs.getHeaders().put("X-Content-Type-Options", "nosniff");
            rs.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
            try (OutputStream out = Content.Sink.asOutputStream(rs)) {
                MessageView.copyPart(m.getValue(), index, out);
            }
            cb.succeeded();
        } else {
            throw new Problem(404, "no such route");
        }
    }

    private static Set<MailStore.Flag> flags(JsonNode list) {
        Set<MailStore.Flag> out = EnumSet.noneOf(MailStore.Flag.class);
        if (!list.isArray()) {
            throw new Problem(400, "flags is a list");
        }
        for (JsonNode f : list) {
            out.add(MailStore.Flag.parse(f.asText()).orElseThrow(() -> new Problem(400, "no flag " + Inbound.printable(f.asText()))));
        }
        return out;
    }

    private static long number(String text, long otherwise) {
        if (text == null) {
            return otherwise;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new Problem(400, "not a number: " + Inbound.printable(text));
        }
    }

    private static ObjectNode summary(MailStore.Summary s) {
        ObjectNode o = JSON.createObjectNode().put("id", s.id()).put("folder", s.folder().id()).put("thread", s.threadId())
                .put("from", s.from()).put("to", s.to()).put("subject", s.subject()).put("date", s.date())
                .put("received", s.received()).put("size", s.size()).put("snippet", s.snippet())
                .put("attachments", s.hasAttachments());
        s.verifiedSender().ifPresentOrElse(v -> o.put("verifiedSender", v), () -> o.putNull("verifiedSender"));
        ArrayNode flags = o.putArray("flags");
        s.flags().forEach(f -> flags.add(f.id()));
        return o;
    }

    private static ObjectNode view(MailStore.Summary s, MessageView v) {
        ObjectNode o = summary(s);
        o.put("messageId", v.messageId()).put("text", v.text()).put("remoteContentBlocked", v.remoteContentBlocked());
        v.html().ifPresentOrElse(h -> o.put("html", h), () -> o.putNull("html"));
        o.set("fromList", addresses(v.from()));
        o.set("toList", addresses(v.to()));
        o.set("ccList", addresses(v.cc()));
        o.set("bccList", addresses(v.bcc()));
        o.put("inReplyTo", v.inReplyTo());
        o.set("replyTo", addresses(v.replyTo()));
        ArrayNode parts = o.putArray("parts");
        for (MessageView.Part p : v.attachments()) {
            ObjectNode po = parts.addObject().put("index", p.index()).put("filename", p.filename()).put("contentType", p.contentType())
                    .put("size", p.size()).put("inline", p.inline());
            p.contentId().ifPresent(c -> po.put("contentId", c));
        }
        ArrayNode refs = o.putArray("references");
        v.references().forEach(refs::add);
        return o;
    }

    private static ArrayNode addresses(List<MessageView.Address> list) {
        ArrayNode out = JSON.createArrayNode();
        list.forEach(a -> out.addObject().put("name", a.name()).put("address", a.address()));
        return out;
    }

    // ------------------------------------------------------------ desktop clients

    /** {@code GET /api/imap} with {@code Upgrade: imap}: an IMAP session, already logged in as the persona. */
    private void imap(String persona, Request rq, Response rs, Callback cb) throws IOException {
        if (!Tunnel.asked(rq, "imap")) {
            rs.getHeaders().put(HttpHeader.UPGRADE, "imap");
            throw new Problem(426, "IMAP goes over an upgraded connection (Connection: Upgrade, Upgrade: imap):"
                    + " intrustd forward mail PORT --upgrade imap");
        }
        Optional<String> why = imap.unavailable();
        if (why.isPresent()) {
            throw new Problem(503, why.get());
        }
        if (!imap.begin(persona)) {
            throw new Problem(429, "at most " + ImapBridge.MAX_SESSIONS + " IMAP sessions at once");
        }
        Path maildir = store.mailboxDir(persona);
        Tunnel.accept(rq, rs, cb, "imap", (in, out) -> {
            try {
                imap.serve(persona, maildir, in, out);
            } finally {
                imap.ended(persona);
                store.refreshIfChanged(persona);
            }
        });
    }

    /**
     * {@code GET /api/smtp} with {@code Upgrade: smtp}: SMTP submission for a desktop client, as
     * the persona; what it sends goes through the outbox like the webmail's (its Sent copy is the
     * client's to file, over IMAP).
     */
    private void smtp(String persona, MailAddress address, Request rq, Response rs, Callback cb) {
        if (!Tunnel.asked(rq, "smtp")) {
            rs.getHeaders().put(HttpHeader.UPGRADE, "smtp");
            throw new Problem(426, "SMTP goes over an upgraded connection (Connection: Upgrade, Upgrade: smtp):"
                    + " intrustd forward mail PORT --upgrade smtp");
        }
        SmtpSubmission.Sink sink = new SmtpSubmission.Sink() {
            @Override
            public boolean mayUse(String sender) {
                return ownIntrustd(sender).isPresent() || ownExternal(sender);
            }

            private Optional<MailAddress> ownIntrustd(String sender) {
                return MailAddress.parse(sender).filter(a -> a.mailbox().equals(address.mailbox()));
            }

            private boolean ownExternal(String sender) {
                try {
                    return accounts.get(persona).filter(a -> a.address().equalsIgnoreCase(sender.strip())).isPresent();
                } catch (IOException e) {
                    return false; // an account that cannot be read is none to send from
                }
            }

            @Override
            public Path tempFile() {
                return outbox.spoolFile();
            }

            @Override
            public void submit(String from, List<String> to, Path message) throws IOException {
                List<MessageView.Address> authors = MessageView.read(message, false).from();
                if (authors.size() != 1 || !mayUse(authors.getFirst().address())) {
                    throw new IllegalArgumentException("the message's From must be one of your own addresses");
                }
                String author = authors.getFirst().address();
                List<MailAddress> intrustd = new ArrayList<>();
                List<String> ordinary = new ArrayList<>();
                for (String r : to) {
                    MailAddress.parse(r).ifPresentOrElse(intrustd::add, () -> ordinary.add(r));
                }
                Optional<MailAddress> self = ownIntrustd(author);
                if (!intrustd.isEmpty() && self.isEmpty()) {
                    throw new IllegalArgumentException("mail to Intrustd addresses goes From your Intrustd address, " + address);
                }
                if (!ordinary.isEmpty() && (!ownExternal(author) || !ownExternal(from))) {
                    throw new IllegalArgumentException("mail to ordinary addresses goes From your external account's address"
                            + accounts.get(persona).map(a -> ", " + a.address()).orElse(" (set one up first)"));
                }
                // One From cannot suit both kinds (see above): a message goes one way or the other.
                if (!ordinary.isEmpty()) {
                    outbox.queue(persona, message, from, Map.of(Transport.EXTERNAL, ordinary));
                } else {
                    try {
                        sendOverLinks(self.get(), persona, intrustd, message, JSON.createArrayNode(), JSON.createArrayNode());
                    } catch (Inbound.Refused e) {
                        throw new IllegalArgumentException(e.getMessage(), e); // the client hears it as 554
                    }
                }
            }
        };
        Tunnel.accept(rq, rs, cb, "smtp", (in, out) -> new SmtpSubmission(MailAddress.domain(address.appliance()), MAX_MESSAGE, sink)
                .serve(new java.io.BufferedInputStream(in, 64 * 1024), out));
    }

    // ------------------------------------------------------------ contacts

    /**
     * {@code GET /api/contacts?q=&limit=}: whom the persona may mean when they start typing an
     * address: the appliance's other personas, senders they accepted, and the people in their
     * recent mail, most written-to first; {@code q} matches any part of a name or address. A
     * {@code q} of {@code name@part} also offers {@code name@} each paired appliance whose name
     * or domain holds {@code part}: the friendly name stands for the ID.
     */
    private void contacts(ApplianceId me, String persona, Fields q, Response rs, Callback cb) throws IOException {
        String query = Optional.ofNullable(q.getValue("q")).orElse("").strip().toLowerCase(Locale.ROOT);
        int limit = (int) Math.clamp(number(q.getValue("limit"), 20), 1, 200);
        record Contact(MailStore.Correspondent who, String kind) {
        }
        Map<String, Contact> people = new LinkedHashMap<>();
        store.correspondents(persona).forEach((a, c) -> people.put(a, new Contact(c, "correspondent")));
        for (var e : inbound.senders(persona).entrySet()) {
            if (e.getValue() == Inbound.Verdict.ACCEPTED && !e.getKey().startsWith("*@")) {
                people.putIfAbsent(e.getKey(), new Contact(new MailStore.Correspondent(e.getKey(), "", 0, 0), "accepted"));
            }
        }
        Map<String, String> personas = new LinkedHashMap<>();
        store.mailboxes().forEach(p -> personas.put(p, p));
        personas.putAll(directory.personas());
        personas.forEach((name, display) -> {
            if (!name.equals(persona) && MailStore.validPersona(name)) {
                String a = MailAddress.of(name, me).toString();
                MailStore.Correspondent known = people.containsKey(a) ? people.get(a).who() : null;
                people.put(a, new Contact(new MailStore.Correspondent(a, display, known == null ? 0 : known.messages(),
                        known == null ? 0 : known.last()), "here"));
            }
        });
        List<Contact> found = new ArrayList<>(people.values().stream()
                .filter(c -> query.isEmpty() || c.who().address().contains(query)
                        || c.who().name().toLowerCase(Locale.ROOT).contains(query))
                .sorted(java.util.Comparator.comparingInt((Contact c) -> c.who().messages()).reversed()
                        .thenComparing(java.util.Comparator.comparingLong((Contact c) -> c.who().last()).reversed())
                        .thenComparing(c -> c.who().address()))
                .toList());
        int at = query.indexOf('@');
        if (at > 0 && MailStore.validPersona(query.substring(0, at))) {
            String local = query.substring(0, at);
            String part = query.substring(at + 1);
            directory.peers().forEach((id, name) -> ApplianceId.parse(id).ifPresent(peer -> {
                String domain = MailAddress.domain(peer);
                if (domain.contains(part) || name.toLowerCase(Locale.ROOT).contains(part)) {
                    String a = local + "@" + domain;
                    if (found.stream().noneMatch(c -> c.who().address().equals(a))) {
                        found.add(new Contact(new MailStore.Correspondent(a, name, 0, 0), "appliance"));
                    }
                }
            }));
        }
        ArrayNode out = JSON.createArrayNode();
        found.stream().limit(limit).forEach(c -> out.addObject().put("address", c.who().address()).put("name", c.who().name())
                .put("kind", c.kind()).put("messages", c.who().messages()).put("last", c.who().last()));
        Replies.send(rs, cb, 200, JSON.createObjectNode().set("contacts", out));
    }

    // ------------------------------------------------------------ senders

    private void senders(String method, String persona, Request rq, Response rs, Callback cb) throws IOException {
        if (method.equals("PUT")) {
            JsonNode body = readJson(rq);
            String sender = body.path("sender").asText("");
            JsonNode verdict = body.path("verdict");
            Optional<Inbound.Verdict> v = verdict.isNull() || verdict.isMissingNode() ? Optional.empty()
                    : Optional.of(switch (verdict.asText()) {
                        case "accepted" -> Inbound.Verdict.ACCEPTED;
                        case "blocked" -> Inbound.Verdict.BLOCKED;
                        default -> throw new Problem(400, "a verdict is accepted, blocked or null");
                    });
            inbound.judge(persona, sender, v);
        } else {
            only(method, "GET");
        }
        ObjectNode out = JSON.createObjectNode();
        ArrayNode list = out.putArray("senders");
        inbound.senders(persona).forEach((k, v) -> list.addObject().put("sender", k).put("verdict", v.id()));
        Replies.send(rs, cb, 200, out);
    }

    // ------------------------------------------------------------ the external account

    private void account(String method, String[] p, String persona, Request rq, Response rs, Callback cb) throws IOException {
        if (p.length == 2 && p[1].equals("fetch")) {
            only(method, "POST");
            External.Fetched f = external.fetch(persona);
            ObjectNode out = JSON.createObjectNode().put("messages", f.messages());
            f.error().ifPresentOrElse(e -> out.put("error", e), () -> out.putNull("error"));
            Replies.send(rs, cb, 200, out);
            return;
        }
        if (p.length != 1) {
            throw new Problem(404, "no such route");
        }
        switch (method) {
            case "GET" -> { }
            case "PUT" -> accounts.put(persona, Accounts.Account.parse(readJson(rq)));
            case "DELETE" -> accounts.remove(persona);
            default -> throw new Problem(405, "GET, PUT or DELETE the account");
        }
        ObjectNode out = JSON.createObjectNode();
        accounts.get(persona).ifPresentOrElse(a -> out.set("account", a.describe()), () -> out.putNull("account"));
        external.lastError(persona).ifPresentOrElse(e -> out.put("lastError", e), () -> out.putNull("lastError"));
        Replies.send(rs, cb, 200, out);
    }

    // ------------------------------------------------------------ helpers

    private static void only(String method, String wanted) {
        if (!method.equals(wanted)) {
            throw new Problem(405, "use " + wanted + " here");
        }
    }

    private static JsonNode readJson(Request rq) throws IOException {
        if (rq.getLength() > MAX_JSON) {
            throw new Problem(413, "a request body is at most " + (MAX_JSON >> 20) + " MiB");
        }
        byte[] body;
        try (InputStream in = Content.Source.asInputStream(rq)) {
            body = in.readNBytes(MAX_JSON + 1);
        }
        if (body.length > MAX_JSON) {
            throw new Problem(413, "a request body is at most " + (MAX_JSON >> 20) + " MiB");
        }
        JsonNode n;
        try {
            n = JSON.readTree(body);
        } catch (IOException e) {
            throw new Problem(400, "the body is not JSON");
        }
        if (n == null || !n.isObject()) {
            throw new Problem(400, "the body is a JSON object");
        }
        return n;
    }
}
