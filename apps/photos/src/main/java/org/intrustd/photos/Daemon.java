package org.intrustd.photos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.intrustd.core.app.UnixHttp;

/**
 * The app's daemon, on the socket named by {@code INTRUSTD_DAEMON_SOCKET}: it mints, lists and
 * revokes the share links (tokens) this app made (docs/spec/access.md, "Tokens minted by apps").
 */
final class Daemon {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The daemon's answer: its status and JSON body (a problem document when it refused). */
    record Answer(int status, JsonNode body) {
        boolean ok() {
            return status / 100 == 2;
        }

        String detail() {
            return body.path("detail").asText("the appliance refused (" + status + ")");
        }
    }

    private final Optional<Path> socket;

    Daemon(Optional<Path> socket) {
        this.socket = socket;
    }

    static Daemon fromEnvironment() {
        return new Daemon(Optional.ofNullable(System.getenv("INTRUSTD_DAEMON_SOCKET")).filter(s -> !s.isBlank()).map(Path::of));
    }

    Answer call(String method, String target, JsonNode body) throws IOException {
        Path s = socket.orElseThrow(() -> new IOException("this app is not running under an Intrustd daemon"));
        byte[] bytes = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
        UnixHttp.Response r = UnixHttp.exchange(s, method, "intrustd", target,
                body == null ? Map.of() : Map.of("Content-Type", "application/json"), bytes);
        JsonNode parsed = r.body().length == 0 ? JSON.createObjectNode() : JSON.readTree(r.body());
        return new Answer(r.status(), parsed);
    }
}
