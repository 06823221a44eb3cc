package org.intrustd.mail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.intrustd.core.app.UnixHttp;
import org.intrustd.core.id.ApplianceId;

/** How a message reaches another appliance's mail app (docs/spec/mail.md, "Delivery"). */
interface Transport {
    /** What became of one delivery attempt. */
    sealed interface Outcome {
    }

    /** The recipient appliance took it; each recipient's fate, by address. */
    record Delivered(Map<String, String> statuses) implements Outcome {
    }

    /** Try again later: the appliance is offline, busy or failing. */
    record Temporary(String reason) implements Outcome {
    }

    /** It will never be taken: bounce it now. */
    record Permanent(String reason) implements Outcome {
    }

    /**
     * One message for one route: an appliance's ID ({@link #route}), or {@link #EXTERNAL} for
     * ordinary addresses, sent through the persona's external account.
     */
    record Delivery(String persona, String route, String id, String from, List<String> to, Path message) {
    }

    /** The route of mail to ordinary addresses. */
    String EXTERNAL = "smtp";

    Outcome deliver(Delivery d);

    static String route(ApplianceId appliance) {
        return appliance.toString();
    }

    /** Status codes from the recipient's mail app (or the daemons between) as outcomes; the body is a JSON object. */
    static Outcome outcome(int status, JsonNode body) {
        String detail = body.path("detail").asText("status " + status);
        if (status == 200) {
            Map<String, String> statuses = new LinkedHashMap<>();
            for (JsonNode r : body.path("recipients")) {
                statuses.put(r.path("address").asText(), r.path("status").asText("refused"));
            }
            return new Delivered(statuses);
        }
        if (status == 408 || status == 425 || status == 429 || status >= 500) {
            return new Temporary(detail);
        }
        // 403 is also what a daemon answers when either owner has not let mail meet appliances it
        // is not paired with: final, as someone must act before it can go (the bounce says who);
        // 400, 404 (no mail app there), 413 likewise.
        return new Permanent(detail);
    }

    /**
     * Through this app's daemon socket: {@code Host: mail.<ID>} makes the daemon link to that
     * appliance and relay the request to its mail app (docs/spec/peers.md, "Calls between apps").
     * The message is streamed from its file, never held whole.
     */
    final class ThroughDaemon implements Transport {
        private static final ObjectMapper JSON = new ObjectMapper();
        private final Path socket;

        ThroughDaemon(Path socket) {
            this.socket = socket;
        }

        @Override
        public Outcome deliver(Delivery d) {
            ApplianceId appliance = ApplianceId.parse(d.route()).orElseThrow(() -> new IllegalArgumentException("not an appliance: " + d.route()));
            String target = target(d.id(), d.from(), d.to());
            Thread watchdog = null;
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
                    FileChannel body = FileChannel.open(d.message())) {
                ch.connect(UnixDomainSocketAddress.of(socket));
                long length = body.size();
                // A Unix socket read has no timeout of its own: a stuck call must not hold the outbox forever.
                long limit = 60_000 + length / 1024; // a minute, and a second per MiB
                watchdog = Thread.ofVirtual().start(() -> {
                    try {
                        Thread.sleep(limit);
                        ch.close();
                    } catch (InterruptedException | IOException e) {
                        // done in time
                    }
                });
                String head = "POST " + target + " HTTP/1.1\r\nHost: mail." + appliance + "\r\nContent-Type: message/rfc822\r\n"
                        + "Content-Length: " + length + "\r\nConnection: close\r\n\r\n";
                ByteBuffer h = ByteBuffer.wrap(head.getBytes(StandardCharsets.US_ASCII));
                while (h.hasRemaining()) {
                    ch.write(h);
                }
                long sent = 0;
                while (sent < length) {
                    sent += body.transferTo(sent, length - sent, ch);
                }
                InputStream in = new BufferedInputStream(Channels.newInputStream(ch));
                UnixHttp.Response r = UnixHttp.read(in, false);
                JsonNode parsed;
                try {
                    parsed = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
                } catch (IOException e) {
                    parsed = JSON.createObjectNode().put("detail", "an answer that is not JSON (status " + r.status() + ")");
                }
                return outcome(r.status(), parsed);
            } catch (IOException e) {
                return new Temporary("the daemon could not be reached, or the call took too long: " + e.getMessage());
            } finally {
                if (watchdog != null) {
                    watchdog.interrupt();
                }
            }
        }

    }

    /** The request target of a delivery to the recipient's mail app. */
    static String target(String deliveryId, String from, List<String> to) {
        StringBuilder target = new StringBuilder("/api/deliver?id=").append(enc(deliveryId)).append("&from=").append(enc(from));
        for (String t : to) {
            target.append("&to=").append(enc(t));
        }
        return target.toString();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Splits recipients by the appliance they live on (its route), in a stable order. */
    static Map<String, List<String>> byAppliance(List<MailAddress> recipients) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (MailAddress a : recipients) {
            out.computeIfAbsent(route(a.appliance()), k -> new ArrayList<>()).add(a.toString());
        }
        return out;
    }

    /** Sends each delivery the way its route says: through the daemon to an appliance, or through an external account. */
    record Routes(Transport appliances, Transport external) implements Transport {
        @Override
        public Outcome deliver(Delivery d) {
            return d.route().equals(EXTERNAL) ? external.deliver(d) : appliances.deliver(d);
        }
    }
}
