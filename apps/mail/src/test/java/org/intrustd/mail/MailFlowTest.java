package org.intrustd.mail;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.intrustd.core.access.TrustedHeaders;
import org.intrustd.core.app.UnixHttp;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two (or three) mail apps, each on its own socket and data folder, exchanging mail. Between
 * them stands what their daemons would do (docs/spec/peers.md, "Calls between apps"): the call
 * goes to the other app's socket with the trusted headers the callee's daemon adds, naming the
 * calling appliance in X-Intrustd-Peer. The daemons and the link themselves are tested in the
 * appliance module and in e2e.
 */
class MailFlowTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /** The appliances that are up, by ID: the sockets their mail apps serve on. */
    private final Map<ApplianceId, Path> online = new ConcurrentHashMap<>();
    private final Map<ApplianceId, MailApp> apps = new LinkedHashMap<>();
    private final List<String> transportLog = new ArrayList<>();
    private Outbox.Schedule schedule = new Outbox.Schedule(Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMinutes(5));
    private ApplianceId a;
    private ApplianceId b;

    /** What a daemon does for {@code from}'s mail app: call the peer's mail app, or answer 504 when it is not reachable. */
    private Transport daemonOf(ApplianceId from) {
        return d -> {
            ApplianceId to = ApplianceId.parse(d.route()).orElseThrow();
            synchronized (transportLog) {
                transportLog.add(from + "->" + to + " " + d.id());
            }
            Path socket = online.get(to);
            if (socket == null) {
                return new Transport.Temporary("appliance " + to + " is not connected to the flock");
            }
            try {
                String target = Transport.target(d.id(), d.from(), d.to());
                Map<String, String> headers = new LinkedHashMap<>();
                headers.put(TrustedHeaders.APPLIANCE, to.toString());
                headers.put(TrustedHeaders.PEER, from.toString());
                UnixHttp.Response r = UnixHttp.exchange(socket, "POST", "mail", target, headers, Files.readAllBytes(d.message()));
                return Transport.outcome(r.status(), r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body()));
            } catch (Exception e) {
                return new Transport.Temporary(e.toString());
            }
        };
    }

    /** A daemon that knows no personas and no paired appliances. */
    static final Directory NOBODY = new Directory() {
        @Override
        public Map<String, String> personas() {
            return Map.of();
        }

        @Override
        public Map<String, String> peers() {
            return Map.of();
        }
    };

    /** What each appliance's daemon says of its personas and paired appliances: nothing, unless a test says. */
    private final Map<ApplianceId, Map<String, String>> personasOf = new ConcurrentHashMap<>();
    private final Map<ApplianceId, Map<String, String>> peersOf = new ConcurrentHashMap<>();

    private Directory directoryOf(ApplianceId id) {
        return new Directory() {
            @Override
            public Map<String, String> personas() {
                return personasOf.getOrDefault(id, Map.of());
            }

            @Override
            public Map<String, String> peers() {
                return peersOf.getOrDefault(id, Map.of());
            }
        };
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private ApplianceId newAppliance(int seed) {
        byte[] key = new byte[32];
        new java.util.Random(seed).nextBytes(key);
        return ApplianceId.fromPublicKey(key);
    }

    private void start(ApplianceId id) throws Exception {
        Path dir = tmp.resolve(id.toString().substring(0, 7));
        Path socket = dir.resolve("app.sock");
        Files.createDirectories(dir);
        apps.put(id, MailApp.start(socket, dir.resolve("data"), daemonOf(id), directoryOf(id), schedule, java.util.Optional.empty()));
        online.put(id, socket);
    }

    private void stop(ApplianceId id) {
        online.remove(id);
        apps.remove(id).close();
    }

    @BeforeEach
    void twoAppliances() throws Exception {
        a = newAppliance(1);
        b = newAppliance(2);
        start(a);
        start(b);
        // Mailboxes are made when a persona first uses Mail.
        call(a, "alice", "GET", "/api/me", null);
        call(b, "bob", "GET", "/api/me", null);
    }

    @AfterEach
    void stopAll() {
        for (ApplianceId id : new ArrayList<>(apps.keySet())) {
            stop(id);
        }
    }

    private String address(String persona, ApplianceId on) {
        return MailAddress.of(persona, on).toString();
    }

    /** A persona's call to their own appliance's mail app, as the daemon passes it on. */
    private UnixHttp.Response call(ApplianceId on, String persona, String method, String target, String body) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(TrustedHeaders.APPLIANCE, on.toString());
        headers.put(TrustedHeaders.PERSONA, persona);
        headers.put(TrustedHeaders.ROLE, "user");
        if (body != null) {
            headers.put("Content-Type", "application/json");
        }
        return UnixHttp.exchange(online.get(on), method, "mail", target, headers,
                body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8));
    }

    private JsonNode json(UnixHttp.Response r, int status) throws Exception {
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    private JsonNode send(ApplianceId on, String persona, String to, String subject, String text) throws Exception {
        String body = JSON.createObjectNode().put("subject", subject).put("text", text).set("to", JSON.createArrayNode().add(to))
                .toString();
        return json(call(on, persona, "POST", "/api/send", body), 202);
    }

    private JsonNode list(ApplianceId on, String persona, String folder) throws Exception {
        return json(call(on, persona, "GET", "/api/messages?folder=" + folder, null), 200).path("messages");
    }

    /** Waits for {@code folder} to hold {@code count} messages. */
    private JsonNode await(ApplianceId on, String persona, String folder, int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonNode l = list(on, persona, folder);
        while (l.size() < count && System.nanoTime() < deadline) {
            Thread.sleep(50);
            l = list(on, persona, folder);
        }
        assertThat(l.size()).as(folder + " of " + persona + ": " + l).isEqualTo(count);
        return l;
    }

    @Test
    void aStrangersMailWaitsInRequestsUntilAcceptedAndTheAnswerGoesStraightToTheInbox() throws Exception {
        JsonNode sent = send(a, "alice", address("bob", b), "Hello Bob", "Lunch on Friday?");
        assertThat(sent.path("queued").get(0).asText()).isEqualTo(address("bob", b));
        assertThat(await(a, "alice", "sent", 1).get(0).path("subject").asText()).isEqualTo("Hello Bob");

        JsonNode req = await(b, "bob", "requests", 1).get(0);
        assertThat(req.path("verifiedSender").asText()).isEqualTo(address("alice", a));
        assertThat(req.path("subject").asText()).isEqualTo("Hello Bob");
        JsonNode full = json(call(b, "bob", "GET", "/api/messages/" + req.path("id").asLong(), null), 200);
        assertThat(full.path("text").asText()).contains("Lunch on Friday?");
        assertThat(full.path("flags").toString()).contains("seen");

        // Bob accepts Alice: her next message lands in his Inbox.
        json(call(b, "bob", "PUT", "/api/senders", "{\"sender\": \"" + address("alice", a) + "\", \"verdict\": \"accepted\"}"), 200);
        send(a, "alice", address("bob", b), "Again", "Still on?");
        assertThat(await(b, "bob", "inbox", 1).get(0).path("subject").asText()).isEqualTo("Again");

        // Alice wrote to Bob, so his answer is no stranger's.
        String body = JSON.createObjectNode().put("subject", "Re: Hello Bob").put("text", "Yes!")
                .put("inReplyTo", full.path("messageId").asText()).set("to", JSON.createArrayNode().add(address("alice", a))).toString();
        json(call(b, "bob", "POST", "/api/send", body), 202);
        JsonNode answer = await(a, "alice", "inbox", 1).get(0);
        assertThat(answer.path("verifiedSender").asText()).isEqualTo(address("bob", b));
        // The answer joins the thread of the first message, as Alice's Sent copy shows it.
        JsonNode first = list(a, "alice", "sent");
        assertThat(answer.path("thread").asText()).isEqualTo(first.get(first.size() - 1).path("thread").asText());
    }

    @Test
    void anAddressOfAnotherApplianceIsRefusedAndNothingIsStored() throws Exception {
        ApplianceId mallory = newAppliance(3);
        String forged = "From: alice <" + address("alice", a) + ">\r\nTo: " + address("bob", b) + "\r\nSubject: pay me\r\n\r\nhi\r\n";
        // Mallory's appliance delivers, claiming Alice's address as the sender.
        UnixHttp.Response r = deliverAs(mallory, address("alice", a), address("bob", b), forged);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.headers().get("Content-Type")).isEqualTo("application/problem+json");
        // Or its own address on the envelope, and Alice's in the From header a reader sees.
        r = deliverAs(mallory, address("mallory", mallory), address("bob", b), forged);
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.text()).contains("From address");
        // Or no peer at all: a persona posting straight to /api/deliver.
        assertThat(call(b, "bob", "POST", "/api/deliver?id=" + DeliveryId.next() + "&from=x&to=y", "x").status()).isEqualTo(403);
        assertThat(list(b, "bob", "requests").size() + list(b, "bob", "inbox").size()).isZero();
    }

    private UnixHttp.Response deliverAs(ApplianceId peer, String from, String to, String message) throws Exception {
        return deliverAs(peer, DeliveryId.next(), from, to, message);
    }

    private UnixHttp.Response deliverAs(ApplianceId peer, String id, String from, String to, String message) throws Exception {
        return deliverAs(peer, false, id, from, to, message);
    }

    private UnixHttp.Response deliverAs(ApplianceId peer, boolean paired, String id, String from, String to, String message)
            throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(TrustedHeaders.APPLIANCE, b.toString());
        headers.put(TrustedHeaders.PEER, peer.toString());
        headers.put(TrustedHeaders.PEER_PAIRED, Boolean.toString(paired));
        return UnixHttp.exchange(online.get(b), "POST", "mail", "/api/deliver?id=" + enc(id) + "&from=" + enc(from) + "&to=" + enc(to),
                headers, message.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void mailFromAPairedApplianceGoesToTheInboxAndStrangersShareOneAllowance() throws Exception {
        String message = "From: " + address("alice", a) + "\r\nSubject: from a friend\r\n\r\nbody\r\n";
        UnixHttp.Response r = deliverAs(a, true, DeliveryId.next(), address("alice", a), address("bob", b), message);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(list(b, "bob", "inbox").size()).isEqualTo(1);
        assertThat(list(b, "bob", "requests").size()).isZero();

        // A new appliance ID costs nothing: past their shared burst, strangers wait, each of them fresh.
        int refused = 0;
        for (int i = 0; i < Inbound.STRANGERS_BURST + 5; i++) {
            ApplianceId stranger = newAppliance(1000 + i);
            String m = "From: " + address("x", stranger) + "\r\nSubject: hi\r\n\r\nbody\r\n";
            UnixHttp.Response s = deliverAs(stranger, DeliveryId.next(), address("x", stranger), address("nobody", b), m);
            assertThat(s.status()).as(s.text()).isIn(200, 429);
            refused += s.status() == 429 ? 1 : 0;
        }
        assertThat(refused).isBetween(1, 5);
        // The paired appliance is not held back by them.
        r = deliverAs(a, true, DeliveryId.next(), address("alice", a), address("bob", b), message);
        assertThat(r.status()).as(r.text()).isEqualTo(200);
        assertThat(list(b, "bob", "inbox").size()).isEqualTo(2);
    }

    @Test
    void aDeliveryRepeatedWithTheSameIdIsKeptOnce() throws Exception {
        String id = DeliveryId.next();
        String message = "From: " + address("alice", a) + "\r\nSubject: once\r\n\r\nbody\r\n";
        for (int i = 0; i < 3; i++) {
            UnixHttp.Response r = deliverAs(a, id, address("alice", a), address("bob", b), message);
            assertThat(r.status()).as(r.text()).isEqualTo(200);
            assertThat(r.text()).contains("\"accepted\"");
        }
        assertThat(list(b, "bob", "requests").size()).isEqualTo(1);
    }

    @Test
    void mailForAnOfflineApplianceWaitsAndGoesWhenItIsBackEvenAfterTheSenderRestarts() throws Exception {
        stop(b);
        send(a, "alice", address("bob", b), "While you were out", "...");
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonNode out = json(call(a, "alice", "GET", "/api/outbox", null), 200).path("outbox");
        while (out.path(0).path("attempts").asInt() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(100);
            out = json(call(a, "alice", "GET", "/api/outbox", null), 200).path("outbox");
        }
        assertThat(out.size()).isEqualTo(1);
        assertThat(out.get(0).path("lastError").asText()).contains("not connected");
        // Alice's appliance restarts with the message still queued; then Bob's comes back.
        stop(a);
        start(a);
        start(b);
        call(a, "alice", "POST", "/api/outbox/retry", null);
        assertThat(await(b, "bob", "requests", 1).get(0).path("subject").asText()).isEqualTo("While you were out");
        awaitEmptyOutbox(a, "alice");
        // The retries carried one delivery id.
        assertThat(transportLog.stream().map(l -> l.substring(l.indexOf(' ') + 1)).distinct().count()).isEqualTo(1);
    }

    @Test
    void mailThatCannotGoInTimeBouncesToItsSender() throws Exception {
        stopAll();
        schedule = new Outbox.Schedule(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofSeconds(1));
        start(a);
        call(a, "alice", "GET", "/api/me", null);
        ApplianceId gone = newAppliance(4);
        send(a, "alice", address("carol", gone), "Into the void", "...");
        JsonNode bounce = await(a, "alice", "inbox", 1).get(0);
        assertThat(bounce.path("subject").asText()).isEqualTo("Undelivered: Into the void");
        assertThat(bounce.path("verifiedSender").asText()).startsWith("postmaster@");
        JsonNode full = json(call(a, "alice", "GET", "/api/messages/" + bounce.path("id").asLong(), null), 200);
        assertThat(full.path("text").asText()).contains(address("carol", gone)).contains("not delivered within");
        awaitEmptyOutbox(a, "alice");
    }

    /** Waits for the sender to hear the recipient's answer and drop the message from its queue. */
    private void awaitEmptyOutbox(ApplianceId on, String persona) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonNode out = json(call(on, persona, "GET", "/api/outbox", null), 200).path("outbox");
        while (out.size() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
            out = json(call(on, persona, "GET", "/api/outbox", null), 200).path("outbox");
        }
        assertThat(out.size()).as(out.toString()).isZero();
    }

    @Test
    void mailToSomeoneWithNoMailboxThereBouncesAtOnce() throws Exception {
        send(a, "alice", address("nobody", b), "Hello?", "...");
        JsonNode bounce = await(a, "alice", "inbox", 1).get(0);
        assertThat(bounce.path("subject").asText()).isEqualTo("Undelivered: Hello?");
        JsonNode full = json(call(a, "alice", "GET", "/api/messages/" + bounce.path("id").asLong(), null), 200);
        assertThat(full.path("text").asText()).contains(address("nobody", b) + " (unknown)");
    }

    @Test
    void aBlockedSenderIsDroppedWithoutTellingThem() throws Exception {
        json(call(b, "bob", "PUT", "/api/senders", "{\"sender\": \"*@" + MailAddress.domain(a) + "\", \"verdict\": \"blocked\"}"), 200);
        JsonNode senders = json(call(b, "bob", "GET", "/api/senders", null), 200).path("senders");
        assertThat(senders.get(0).path("verdict").asText()).isEqualTo("blocked");
        send(a, "alice", address("bob", b), "spam", "...");
        awaitEmptyOutbox(a, "alice");
        assertThat(list(b, "bob", "requests").size() + list(b, "bob", "inbox").size()).isZero();
        assertThat(list(a, "alice", "inbox").size()).as("no bounce").isZero();
    }

    @Test
    void mailBetweenPersonasOfOneApplianceIsDeliveredAtOnce() throws Exception {
        call(a, "carol", "GET", "/api/me", null);
        JsonNode sent = send(a, "alice", address("carol", a), "Hi neighbour", "...");
        assertThat(sent.path("delivered").get(0).path("status").asText()).isEqualTo("accepted");
        assertThat(list(a, "carol", "inbox").get(0).path("verifiedSender").asText()).isEqualTo(address("alice", a));
    }

    @Test
    void messagesAreSearchedMovedFlaggedAndDeleted() throws Exception {
        call(a, "carol", "GET", "/api/me", null);
        send(a, "alice", address("carol", a), "Quarterly figures", "The turnover grew by a fifth.");
        send(a, "alice", address("carol", a), "Holiday", "Sunny beaches.");
        JsonNode hits = json(call(a, "carol", "GET", "/api/messages?q=turnov", null), 200).path("messages");
        assertThat(hits.size()).isEqualTo(1);
        assertThat(hits.get(0).path("subject").asText()).isEqualTo("Quarterly figures");
        long id = hits.get(0).path("id").asLong();
        JsonNode moved = json(call(a, "carol", "PATCH", "/api/messages/" + id, "{\"folder\": \"archive\", \"flags\": [\"flagged\"]}"), 200);
        assertThat(moved.path("folder").asText()).isEqualTo("archive");
        assertThat(moved.path("flags").toString()).isEqualTo("[\"flagged\"]");
        JsonNode folders = json(call(a, "carol", "GET", "/api/folders", null), 200).path("folders");
        assertThat(folders.toString()).contains("{\"id\":\"archive\",\"total\":1,\"unread\":1}");
        assertThat(call(a, "carol", "DELETE", "/api/messages/" + id, null).status()).isEqualTo(204);
        assertThat(list(a, "carol", "trash").size()).isEqualTo(1);
        assertThat(call(a, "carol", "DELETE", "/api/messages/" + id, null).status()).isEqualTo(204);
        assertThat(list(a, "carol", "trash").size()).isZero();
        assertThat(call(a, "carol", "GET", "/api/messages/" + id, null).status()).isEqualTo(404);
        // Another persona's message is not there for Alice.
        long holiday = list(a, "carol", "inbox").get(0).path("id").asLong();
        assertThat(call(a, "alice", "GET", "/api/messages/" + holiday, null).status()).isEqualTo(404);
    }

    @Test
    void attachmentsAreUploadedThenSentAndComeOutByteForByte() throws Exception {
        call(a, "carol", "GET", "/api/me", null);
        byte[] data = new byte[3 << 20];
        new java.util.Random(7).nextBytes(data);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(TrustedHeaders.APPLIANCE, a.toString());
        headers.put(TrustedHeaders.PERSONA, "alice");
        headers.put("Content-Type", "application/x-test");
        JsonNode up = json(UnixHttp.exchange(online.get(a), "POST", "mail", "/api/uploads?name=" + enc("../../etc/r\u00e9sum\u00e9.bin"),
                headers, data), 201);
        assertThat(up.path("filename").asText()).isEqualTo("r\u00e9sum\u00e9.bin");
        assertThat(up.path("size").asLong()).isEqualTo(data.length);
        String body = JSON.createObjectNode().put("subject", "The file").put("text", "Attached.")
                .<com.fasterxml.jackson.databind.node.ObjectNode>set("to", JSON.createArrayNode().add(address("carol", a)))
                .set("attachments", JSON.createArrayNode().add(up.path("id").asText())).toString();
        json(call(a, "alice", "POST", "/api/send", body), 202);
        long id = list(a, "carol", "inbox").get(0).path("id").asLong();
        JsonNode full = json(call(a, "carol", "GET", "/api/messages/" + id, null), 200);
        assertThat(full.path("text").asText()).contains("Attached.");
        JsonNode part = full.path("parts").get(0);
        assertThat(part.path("filename").asText()).isEqualTo("r\u00e9sum\u00e9.bin");
        assertThat(part.path("contentType").asText()).isEqualTo("application/x-test");
        assertThat(part.path("size").asLong()).isEqualTo(data.length);
        UnixHttp.Response got = call(a, "carol", "GET", "/api/messages/" + id + "/parts/" + part.path("index").asInt(), null);
        assertThat(got.status()).isEqualTo(200);
        assertThat(got.body()).isEqualTo(data);
        // Sent, the upload is gone; an unknown one is a clear 404.
        UnixHttp.Response again = call(a, "alice", "POST", "/api/send", body);
        assertThat(again.status()).isEqualTo(404);
        assertThat(again.text()).contains("no upload");
    }

    @Test
    void aDraftIsSavedReplacedAndSentWithItsAttachmentThenForwardedWithIt() throws Exception {
        call(a, "carol", "GET", "/api/me", null);
        call(a, "dave", "GET", "/api/me", null);
        byte[] data = new byte[1 << 20];
        new java.util.Random(11).nextBytes(data);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(TrustedHeaders.APPLIANCE, a.toString());
        headers.put(TrustedHeaders.PERSONA, "alice");
        headers.put("Content-Type", "application/pdf");
        JsonNode up = json(UnixHttp.exchange(online.get(a), "POST", "mail", "/api/uploads?name=plan.pdf", headers, data), 201);

        // Half written: a recipient half typed, and the file.
        var first = JSON.createObjectNode().put("subject", "The plan").put("text", "First go");
        first.putArray("to").add("car");
        first.putArray("attachments").add(up.path("id").asText());
        JsonNode d1 = json(call(a, "alice", "POST", "/api/drafts", first.toString()), 201);
        assertThat(d1.path("flags").toString()).contains("draft");
        JsonNode opened = json(call(a, "alice", "GET", "/api/messages/" + d1.path("id").asLong(), null), 200);
        assertThat(opened.path("toList").get(0).path("address").asText()).isEqualTo("car");
        int part = opened.path("parts").get(0).path("index").asInt();

        // Saved again, finished, with a Bcc kept in the draft and the file taken over from the old draft.
        var second = JSON.createObjectNode().put("subject", "The plan").put("text", "Second go").put("draft", d1.path("id").asLong());
        second.putArray("to").add(address("carol", a));
        second.putArray("bcc").add(address("dave", a));
        second.putArray("keep").addObject().put("message", d1.path("id").asLong()).put("part", part);
        JsonNode d2 = json(call(a, "alice", "POST", "/api/drafts", second.toString()), 201);
        JsonNode drafts = list(a, "alice", "drafts");
        assertThat(drafts.size()).as("the new draft replaces the old").isEqualTo(1);
        assertThat(drafts.get(0).path("id").asLong()).isEqualTo(d2.path("id").asLong());
        JsonNode reopened = json(call(a, "alice", "GET", "/api/messages/" + d2.path("id").asLong(), null), 200);
        assertThat(reopened.path("bccList").get(0).path("address").asText()).isEqualTo(address("dave", a));
        int part2 = reopened.path("parts").get(0).path("index").asInt();

        var send = second.put("draft", d2.path("id").asLong());
        ((com.fasterxml.jackson.databind.node.ArrayNode) send.get("keep")).removeAll().addObject()
                .put("message", d2.path("id").asLong()).put("part", part2);
        json(call(a, "alice", "POST", "/api/send", send.toString()), 202);
        assertThat(list(a, "alice", "drafts").size()).as("a sent draft is no longer a draft").isZero();
        for (String who : List.of("carol", "dave")) {
            JsonNode got = list(a, who, "inbox").get(0);
            JsonNode full = json(call(a, who, "GET", "/api/messages/" + got.path("id").asLong(), null), 200);
            assertThat(full.path("bccList").size()).as("no one sees the Bcc").isZero();
            JsonNode p = full.path("parts").get(0);
            assertThat(p.path("filename").asText()).isEqualTo("plan.pdf");
            assertThat(call(a, who, "GET", "/api/messages/" + got.path("id").asLong() + "/parts/" + p.path("index").asInt(), null)
                    .body()).isEqualTo(data);
        }

        // Carol forwards it with its attachment to Bob on another appliance.
        JsonNode got = list(a, "carol", "inbox").get(0);
        var forward = JSON.createObjectNode().put("subject", "Fwd: The plan").put("text", "See below");
        forward.putArray("to").add(address("bob", b));
        forward.putArray("keep").addObject().put("message", got.path("id").asLong()).put("part", part2);
        json(call(a, "carol", "POST", "/api/send", forward.toString()), 202);
        JsonNode fwd = await(b, "bob", "requests", 1).get(0);
        JsonNode fwdFull = json(call(b, "bob", "GET", "/api/messages/" + fwd.path("id").asLong(), null), 200);
        int fwdPart = fwdFull.path("parts").get(0).path("index").asInt();
        assertThat(call(b, "bob", "GET", "/api/messages/" + fwd.path("id").asLong() + "/parts/" + fwdPart, null).body())
                .isEqualTo(data);

        // Bad references are clear refusals.
        var bad = JSON.createObjectNode().put("subject", "x").put("text", "y");
        bad.putArray("to").add(address("bob", b));
        bad.putArray("keep").addObject().put("message", got.path("id").asLong()).put("part", 99);
        assertThat(call(a, "carol", "POST", "/api/send", bad.toString()).status()).isEqualTo(404);
        bad.put("draft", got.path("id").asLong());
        assertThat(call(a, "carol", "POST", "/api/drafts", bad.toString()).status()).as("not a draft").isEqualTo(409);
    }

    @Test
    void contactsAreThePeopleOfRecentMailAcceptedSendersAndColleagues() throws Exception {
        call(a, "carol", "GET", "/api/me", null);
        send(a, "alice", "Bob Builder <" + address("bob", b) + ">", "One", "1");
        send(a, "alice", address("bob", b), "Two", "2");
        send(b, "bob", address("zed", b), "Three", "3");
        JsonNode all = json(call(a, "alice", "GET", "/api/contacts", null), 200).path("contacts");
        assertThat(all.get(0).path("address").asText()).as("most written to first").isEqualTo(address("bob", b));
        assertThat(all.get(0).path("name").asText()).isEqualTo("Bob Builder");
        assertThat(all.get(0).path("messages").asInt()).isEqualTo(2);
        assertThat(all.toString()).contains(address("carol", a)).contains("\"kind\":\"here\"").doesNotContain(address("alice", a));
        JsonNode some = json(call(a, "alice", "GET", "/api/contacts?q=BUILD&limit=5", null), 200).path("contacts");
        assertThat(some.size()).isEqualTo(1);
        assertThat(json(call(a, "alice", "GET", "/api/contacts?q=nobody-at-all", null), 200).path("contacts").size()).isZero();

        // The daemon knows more personas than have opened Mail, and a paired appliance by its name.
        personasOf.put(a, Map.of("alice", "Alice", "carol", "Carol C.", "erin", "Erin E."));
        peersOf.put(a, Map.of(b.toString(), "Bob's box"));
        JsonNode here = json(call(a, "alice", "GET", "/api/contacts?q=erin", null), 200).path("contacts");
        assertThat(here.get(0).path("address").asText()).isEqualTo(address("erin", a));
        assertThat(here.get(0).path("name").asText()).isEqualTo("Erin E.");
        JsonNode named = json(call(a, "alice", "GET", "/api/contacts?q=" + enc("zed@bob's"), null), 200).path("contacts");
        assertThat(named.get(0).path("address").asText()).isEqualTo(address("zed", b));
        assertThat(named.get(0).path("kind").asText()).isEqualTo("appliance");
        assertThat(named.get(0).path("name").asText()).isEqualTo("Bob's box");
    }

    @Test
    void aPersonaWhoNeverOpenedMailStillGetsIt() throws Exception {
        personasOf.put(b, Map.of("bob", "Bob", "newbie", "New Bie"));
        send(a, "alice", address("newbie", b), "Welcome", "Hi!");
        JsonNode got = await(b, "newbie", "requests", 1);
        assertThat(got.get(0).path("subject").asText()).isEqualTo("Welcome");
    }

    @Test
    void aDesktopClientSubmitsOverSmtpOnlyFromItsOwnAddressAndOnlyOneKindOfRecipient() throws Exception {
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.connect(java.net.UnixDomainSocketAddress.of(online.get(a)));
            var out = java.nio.channels.Channels.newOutputStream(ch);
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(java.nio.channels.Channels.newInputStream(ch),
                    StandardCharsets.ISO_8859_1));
            out.write(("GET /api/smtp HTTP/1.1\r\nHost: mail\r\nConnection: Upgrade\r\nUpgrade: smtp\r\n"
                    + TrustedHeaders.APPLIANCE + ": " + a + "\r\n" + TrustedHeaders.PERSONA + ": alice\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            assertThat(in.readLine()).startsWith("HTTP/1.1 101");
            while (!in.readLine().isEmpty()) {
                // the rest of the 101's head
            }
            assertThat(in.readLine()).startsWith("220 ");
            String me = address("alice", a);
            String message = "From: " + me + "\r\nSubject: from the desktop\r\n\r\nhi\r\n.\r\n";
            // Pipelined, as clients do: to an appliance and an ordinary address at once is refused after the data.
            out.write(("EHLO laptop\r\nMAIL FROM:<" + me + ">\r\nRCPT TO:<" + address("bob", b) + ">\r\nRCPT TO:<x@example.org>\r\n"
                    + "DATA\r\n").getBytes(StandardCharsets.ISO_8859_1));
            String line;
            while ((line = in.readLine()).startsWith("250")) {
                // EHLO's lines, MAIL, the two RCPTs
            }
            assertThat(line).startsWith("354");
            out.write(message.getBytes(StandardCharsets.ISO_8859_1));
            assertThat(in.readLine()).startsWith("554").contains("ordinary addresses");
            out.write(("MAIL FROM:<" + me + ">\r\nRCPT TO:<" + address("bob", b) + ">\r\nDATA\r\n").getBytes(StandardCharsets.ISO_8859_1));
            assertThat(List.of(in.readLine(), in.readLine(), in.readLine())).extracting(l -> l.substring(0, 3))
                    .containsExactly("250", "250", "354");
            out.write(message.getBytes(StandardCharsets.ISO_8859_1));
            assertThat(in.readLine()).startsWith("250");
            out.write("QUIT\r\n".getBytes(StandardCharsets.ISO_8859_1));
            assertThat(in.readLine()).startsWith("221");
        }
        JsonNode got = await(b, "bob", "requests", 1).get(0);
        assertThat(got.path("subject").asText()).isEqualTo("from the desktop");
        assertThat(got.path("verifiedSender").asText()).isEqualTo(address("alice", a));
        // Without the upgrade: a clear refusal.
        assertThat(call(a, "alice", "GET", "/api/smtp", null).status()).isEqualTo(426);
        assertThat(call(a, "alice", "GET", "/api/imap", null).status()).isEqualTo(426);
    }

    @Test
    void theIndexCatchesUpWithMessagesFiledJustBeforeAKill() throws Exception {
        call(a, "carol", "GET", "/api/me", null);
        stop(a);
        // A message renamed into place whose index row was never written.
        Path dir = tmp.resolve(a.toString().substring(0, 7)).resolve("data/mailboxes/carol/new");
        Files.writeString(dir.resolve("1700000000.M1R00.intrustd"), "From: x@example.org\r\nSubject: orphan\r\n\r\nfound\r\n");
        start(a);
        assertThat(list(a, "carol", "inbox").get(0).path("subject").asText()).isEqualTo("orphan");
    }

    @Test
    void badRequestsGetAProblemAndNeverAFailure() throws Exception {
        Gen<String> junk = Gen.strings(40);
        Property.forAll(200, junk, junk, (x, y) -> {
            try {
                for (String target : List.of("/api/messages/" + enc(x), "/api/messages?folder=" + enc(x) + "&before=" + enc(y),
                        "/api/messages?q=" + enc(x), "/api/messages/1/parts/" + enc(y),
                        "/api/contacts?q=" + enc(x) + "&limit=" + enc(y))) {
                    int s = call(a, "alice", "GET", target, null).status();
                    assertThat(s).as(target).isLessThan(500); // an empty x lists the messages
                }
                for (String body : List.of(x, "{\"to\": [\"" + x.replace("\"", "") + "\"], \"subject\": \"s\"}",
                        "{\"sender\": \"" + y.replace("\"", "") + "\", \"verdict\": \"accepted\"}")) {
                    int s = call(a, "alice", "POST", "/api/send", body).status();
                    assertThat(s).as(body).isBetween(400, 499);
                    s = call(a, "alice", "PUT", "/api/senders", body).status();
                    assertThat(s).as(body).isBetween(400, 499);
                }
                String bare = x.replace("\"", "").replace("\\", "");
                for (String body : List.of(x, "{\"to\": [\"" + bare + "\"], \"bcc\": [\"" + bare + "\"], \"subject\": \"" + bare + "\"}",
                        "{\"draft\": \"" + bare + "\"}", "{\"keep\": [{\"message\": \"" + bare + "\", \"part\": 1}]}",
                        "{\"keep\": " + bare + "}")) {
                    int s = call(a, "alice", "POST", "/api/drafts", body).status();
                    assertThat(s).as(body).isIn(201, 400, 404, 409, 413);
                }
                UnixHttp.Response r = deliverAs(a, x, y, address("bob", b), y);
                assertThat(r.status()).as(r.text()).isBetween(400, 499);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertThat(list(b, "bob", "requests").size()).isZero();
    }
}
