package org.intrustd.mail;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.GreenMailUtil;
import com.icegreen.greenmail.util.ServerSetup;
import com.icegreen.greenmail.util.ServerSetupTest;
import jakarta.mail.internet.MimeMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.intrustd.core.access.TrustedHeaders;
import org.intrustd.core.app.UnixHttp;
import org.intrustd.core.id.ApplianceId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A persona's external account against GreenMail, a real SMTP and IMAP server in this JVM,
 * standing in for the provider: mail to ordinary addresses is submitted over SMTP with the
 * account's login, mail to the account is fetched over IMAP into the Inbox, once.
 */
class ExternalAccountTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Outbox.Schedule FAST = new Outbox.Schedule(Duration.ofMillis(200), Duration.ofMillis(400), Duration.ofMinutes(5));

    @TempDir
    Path tmp;
    private GreenMail provider;
    private MailApp app;
    private Path socket;
    private final ApplianceId self = ApplianceId.fromPublicKey(new byte[32]);

    @BeforeEach
    void start() throws Exception {
        provider = new GreenMail(ServerSetup.dynamicPort(ServerSetupTest.SMTP_IMAP));
        provider.start();
        provider.setUser("alice@example.org", "alice", "provider secret");
        provider.setUser("carol@example.net", "carol", "carol's");
        socket = tmp.resolve("app.sock");
        Transport noAppliances = d -> new Transport.Temporary("no appliances in this test");
        app = MailApp.start(socket, tmp.resolve("data"), noAppliances, MailFlowTest.NOBODY, FAST, Optional.empty());
        assertThat(call("GET", "/api/me", null).status()).isEqualTo(200);
    }

    @AfterEach
    void stop() {
        app.close();
        provider.stop();
    }

    private UnixHttp.Response call(String method, String target, String body) throws Exception {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(TrustedHeaders.APPLIANCE, self.toString());
        headers.put(TrustedHeaders.PERSONA, "alice");
        headers.put(TrustedHeaders.ROLE, "owner");
        return UnixHttp.exchange(socket, method, "mail", target, headers, body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8));
    }

    private ObjectNode account(String password) {
        ObjectNode a = JSON.createObjectNode().put("address", "alice@example.org").put("name", "Alice Liddell");
        a.putObject("smtp").put("host", "127.0.0.1").put("port", provider.getSmtp().getPort()).put("security", "none")
                .put("username", "alice").put("password", password);
        a.putObject("imap").put("host", "127.0.0.1").put("port", provider.getImap().getPort()).put("security", "none")
                .put("username", "alice").put("password", password);
        return a;
    }

    private JsonNode json(UnixHttp.Response r, int status) throws Exception {
        assertThat(r.status()).as(r.text()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    @Test
    void mailToAnOrdinaryAddressGoesThroughTheAccountAndBothKindsOfRecipientGetTheirOwnCopy() throws Exception {
        JsonNode shown = json(call("PUT", "/api/account", account("provider secret").toString()), 200);
        assertThat(shown.toString()).doesNotContain("provider secret");
        String intrustd = MailAddress.of("alice", self).toString();
        call("GET", "/api/me", null);
        ObjectNode mail = JSON.createObjectNode().put("subject", "Tea?").put("text", "At five.");
        mail.putArray("to").add("Carol <carol@example.net>").add(intrustd);
        JsonNode sent = json(call("POST", "/api/send", mail.toString()), 202);
        assertThat(sent.path("queued").toString()).contains("carol@example.net");
        assertThat(sent.path("delivered").get(0).path("status").asText()).isEqualTo("accepted");

        assertThat(provider.waitForIncomingEmail(10_000, 1)).isTrue();
        MimeMessage received = provider.getReceivedMessages()[0];
        assertThat(received.getFrom()[0].toString()).isEqualTo("Alice Liddell <alice@example.org>");
        assertThat(GreenMailUtil.getBody(received)).contains("At five.");
        assertThat(received.getHeader("Bcc")).isNull();
        // The copy over the link is from the Intrustd address, with the same Message-ID.
        JsonNode inbox = json(call("GET", "/api/messages?folder=inbox", null), 200).path("messages");
        JsonNode linkCopy = json(call("GET", "/api/messages/" + inbox.get(0).path("id").asLong(), null), 200);
        assertThat(linkCopy.path("fromList").get(0).path("address").asText()).isEqualTo(intrustd);
        assertThat("<" + linkCopy.path("messageId").asText() + ">").isEqualTo(received.getMessageID());
    }

    @Test
    void mailToTheAccountIsFetchedIntoTheInboxOnce() throws Exception {
        json(call("PUT", "/api/account", account("provider secret").toString()), 200);
        GreenMailUtil.sendTextEmail("alice@example.org", "carol@example.net", "From the outside", "Hello Alice",
                provider.getSmtp().getServerSetup());
        assertThat(provider.waitForIncomingEmail(10_000, 1)).isTrue();
        JsonNode f = json(call("POST", "/api/account/fetch", null), 200);
        assertThat(f.path("messages").asInt()).as(f.toString()).isEqualTo(1);
        assertThat(f.path("error").isNull()).isTrue();
        JsonNode inbox = json(call("GET", "/api/messages?folder=inbox", null), 200).path("messages");
        assertThat(inbox.size()).isEqualTo(1);
        assertThat(inbox.get(0).path("subject").asText()).isEqualTo("From the outside");
        // Not proved by any link: shown as unverified.
        assertThat(inbox.get(0).path("verifiedSender").isNull()).isTrue();

        assertThat(json(call("POST", "/api/account/fetch", null), 200).path("messages").asInt()).isZero();
        GreenMailUtil.sendTextEmail("alice@example.org", "carol@example.net", "Second", "...", provider.getSmtp().getServerSetup());
        assertThat(provider.waitForIncomingEmail(10_000, 2)).isTrue();
        assertThat(json(call("POST", "/api/account/fetch", null), 200).path("messages").asInt()).isEqualTo(1);
        assertThat(json(call("GET", "/api/messages?folder=inbox", null), 200).path("messages").size()).isEqualTo(2);
    }

    @Test
    void aWrongPasswordIsReportedAndTheMessageWaits() throws Exception {
        provider.getManagers().getUserManager().setAuthRequired(true);
        json(call("PUT", "/api/account", account("not the password").toString()), 200);
        JsonNode f = json(call("POST", "/api/account/fetch", null), 200);
        assertThat(f.path("error").asText()).contains("refused the login");
        assertThat(json(call("GET", "/api/account", null), 200).path("lastError").asText()).contains("refused the login");

        ObjectNode mail = JSON.createObjectNode().put("subject", "s").put("text", "t");
        mail.putArray("to").add("carol@example.net");
        json(call("POST", "/api/send", mail.toString()), 202);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        JsonNode out = json(call("GET", "/api/outbox", null), 200).path("outbox");
        while (out.path(0).path("attempts").asInt() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(100);
            out = json(call("GET", "/api/outbox", null), 200).path("outbox");
        }
        assertThat(out.get(0).path("lastError").asText()).contains("refused the login");
        assertThat(provider.getReceivedMessages()).isEmpty();

        // Fixed: the waiting message goes.
        json(call("PUT", "/api/account", account("provider secret").toString()), 200);
        call("POST", "/api/outbox/retry", null);
        assertThat(provider.waitForIncomingEmail(10_000, 1)).isTrue();
    }

    @Test
    void withoutAnAccountOrdinaryAddressesAreRefusedClearly() throws Exception {
        ObjectNode mail = JSON.createObjectNode().put("subject", "s").put("text", "t");
        mail.putArray("to").add("carol@example.net");
        UnixHttp.Response r = call("POST", "/api/send", mail.toString());
        assertThat(r.status()).isEqualTo(422);
        assertThat(r.text()).contains("external account");
        for (String bad : new String[] {"{}", "{\"address\": \"alice@x.intrustd\"}", account("p").put("fetchEveryMinutes", 0).toString(),
                account("p").put("address", "not an address").toString()}) {
            assertThat(call("PUT", "/api/account", bad).status()).as(bad).isEqualTo(400);
        }
        ObjectNode badHost = account("p");
        ((ObjectNode) badHost.get("smtp")).put("host", "a b");
        assertThat(call("PUT", "/api/account", badHost.toString()).status()).isEqualTo(400);
        assertThat(json(call("GET", "/api/account", null), 200).path("account").isNull()).isTrue();
    }
}
