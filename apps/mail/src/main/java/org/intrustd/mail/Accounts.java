package org.intrustd.mail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Each persona's external mail account (a provider's SMTP submission and IMAP servers), for
 * mail to and from ordinary addresses. Kept in the app's data, readable by the app alone
 * ({@code 0600}): the passwords are there in clear, as in any mail client's configuration,
 * since the app must log in unattended.
 */
final class Accounts {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\\[[0-9A-Fa-f:.]+\\]");

    /** How a connection is protected: TLS from the first byte, STARTTLS (required), or nothing (a test server, a LAN relay). */
    enum Security {
        TLS, STARTTLS, NONE;

        static Security parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "tls" -> TLS;
                case "starttls" -> STARTTLS;
                case "none" -> NONE;
                default -> throw new IllegalArgumentException("security is tls, starttls or none, not " + Inbound.printable(s));
            };
        }

        String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One server: where, how protected, and the login. */
    record Server(String host, int port, Security security, String username, String password) {
        Server {
            if (!HOST.matcher(host).matches()) {
                throw new IllegalArgumentException("not a host name: " + Inbound.printable(host));
            }
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("a port is 1 to 65535");
            }
        }

        static Server parse(JsonNode n, String what, int defaultTlsPort, int defaultStartTlsPort) {
            if (!n.isObject()) {
                throw new IllegalArgumentException(what + " is an object {host, port?, security?, username, password}");
            }
            Security security = Security.parse(n.path("security").asText("tls"));
            int port = n.path("port").asInt(security == Security.TLS ? defaultTlsPort : defaultStartTlsPort);
            return new Server(text(n, "host", what), port, security, text(n, "username", what), text(n, "password", what));
        }

        private static String text(JsonNode n, String field, String what) {
            JsonNode v = n.path(field);
            if (!v.isTextual() || v.asText().isEmpty() || v.asText().length() > 1024) {
                throw new IllegalArgumentException(what + "." + field + " is a text of 1 to 1,024 characters");
            }
            return v.asText();
        }

        ObjectNode describe() {
            return JSON.createObjectNode().put("host", host).put("port", port).put("security", security.id()).put("username", username);
        }
    }

    /** A persona's account: the ordinary address it sends as, and its two servers. */
    record Account(String address, String name, Server smtp, Server imap, int fetchEveryMinutes) {
        static Account parse(JsonNode n) {
            if (n == null || !n.isObject()) {
                throw new IllegalArgumentException("an account is {address, name?, smtp, imap, fetchEveryMinutes?}");
            }
            String address = n.path("address").asText("");
            try {
                InternetAddress a = new InternetAddress(address, true);
                address = a.getAddress();
            } catch (AddressException e) {
                throw new IllegalArgumentException("not an address: " + Inbound.printable(address));
            }
            if (MailAddress.looksIntrustd(address)) {
                throw new IllegalArgumentException("an external account has an ordinary address, not an Intrustd one");
            }
            int every = n.path("fetchEveryMinutes").asInt(5);
            if (every < 1 || every > 24 * 60) {
                throw new IllegalArgumentException("fetchEveryMinutes is 1 to 1,440");
            }
            String name = n.path("name").asText("");
            if (name.length() > 200) {
                throw new IllegalArgumentException("a name is at most 200 characters");
            }
            return new Account(address, name, Server.parse(n.path("smtp"), "smtp", 465, 587), Server.parse(n.path("imap"), "imap", 993, 143),
                    every);
        }

        JsonNode toJson() {
            ObjectNode o = JSON.createObjectNode().put("address", address).put("name", name).put("fetchEveryMinutes", fetchEveryMinutes);
            o.set("smtp", server(smtp));
            o.set("imap", server(imap));
            return o;
        }

        private static ObjectNode server(Server s) {
            return s.describe().put("password", s.password());
        }

        /** What the owner is shown: everything but the passwords. */
        ObjectNode describe() {
            ObjectNode o = JSON.createObjectNode().put("address", address).put("name", name).put("fetchEveryMinutes", fetchEveryMinutes);
            o.set("smtp", smtp.describe());
            o.set("imap", imap.describe());
            return o;
        }
    }

    private final Path dir;

    Accounts(Path data) throws IOException {
        this.dir = data.resolve("accounts");
        Files.createDirectories(dir);
    }

    private Path file(String persona) {
        if (!MailStore.validPersona(persona)) {
            throw new IllegalArgumentException("not a persona name: " + persona);
        }
        return dir.resolve(persona + ".json");
    }

    Optional<Account> get(String persona) throws IOException {
        Path f = file(persona);
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        return Optional.of(Account.parse(JSON.readTree(f.toFile())));
    }

    /** Replaces the account, whole or not at all; readable by the app's user alone. */
    void put(String persona, Account account) throws IOException {
        Path tmp = dir.resolve(persona + ".json.tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(tmp, JSON.writeValueAsBytes(account.toJson()));
        Files.move(tmp, file(persona), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    void remove(String persona) throws IOException {
        Files.deleteIfExists(file(persona));
    }

    /** The personas that have an account. */
    java.util.List<String> personas() throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".json"))
                    .map(n -> n.substring(0, n.length() - 5)).filter(MailStore::validPersona).sorted().toList();
        }
    }
}
