package org.intrustd.mail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.intrustd.core.app.UnixHttp;

/**
 * Who is on this appliance and which appliances are paired with it, as its daemon says
 * (docs/apps.md, "The daemon's API for apps"): every persona has a mailbox, whether or not they
 * have opened Mail yet, and paired appliances are among the contacts.
 */
interface Directory {
    /** Personas by name, with their display names; empty when the daemon cannot say. */
    Map<String, String> personas();

    /** Paired appliances by ID, with their names; empty when the daemon cannot say. */
    Map<String, String> peers();

    /** Asks the daemon, at most once a minute for each list: both change rarely, and mail comes often. */
    final class ThroughDaemon implements Directory {
        private static final System.Logger LOG = System.getLogger("intrustd.mail");
        private static final ObjectMapper JSON = new ObjectMapper();
        private static final long FRESH_NANOS = 60_000_000_000L;
        private final Path socket;
        private final Map<String, Cached> cache = new java.util.concurrent.ConcurrentHashMap<>();

        private record Cached(Map<String, String> value, long at) {
        }

        ThroughDaemon(Path socket) {
            this.socket = socket;
        }

        @Override
        public Map<String, String> personas() {
            return list("personas", "name", "displayName");
        }

        @Override
        public Map<String, String> peers() {
            return list("peers", "id", "name");
        }

        private Map<String, String> list(String what, String key, String value) {
            Cached c = cache.get(what);
            if (c != null && System.nanoTime() - c.at() < FRESH_NANOS) {
                return c.value();
            }
            Map<String, String> out = new LinkedHashMap<>();
            try {
                UnixHttp.Response r = UnixHttp.exchange(socket, "GET", "intrustd", "/v1/" + what, Map.of(), new byte[0]);
                if (r.status() != 200) {
                    LOG.log(Level.INFO, "the daemon gives no {0}: {1}", what, r.status());
                } else {
                    for (JsonNode e : JSON.readTree(r.body()).path(what)) {
                        out.put(e.path(key).asText(), e.path(value).asText(""));
                    }
                }
            } catch (IOException e) {
                LOG.log(Level.INFO, "the daemon gives no {0}: {1}", what, e.getMessage());
                return c == null ? Map.of() : c.value(); // the last list known beats none
            }
            Map<String, String> fixed = Map.copyOf(out);
            cache.put(what, new Cached(fixed, System.nanoTime()));
            return fixed;
        }
    }
}
