package org.intrustd.appliance.offsite;

import java.io.IOException;
import java.util.Map;
import org.intrustd.appliance.access.AccessException;
import org.intrustd.appliance.peers.PeerLinks;
import org.intrustd.backup.HttpBackend;
import org.intrustd.client.ChannelHttp;
import org.intrustd.client.ChannelStream;
import org.intrustd.client.ClientException;
import org.intrustd.core.id.ApplianceId;

/**
 * Exchanges with an app on a paired appliance, each on a channel of this appliance's link to
 * it (peers.md): the peer's app sees {@code X-Intrustd-Peer} with this appliance's ID.
 */
public final class PeerHttp implements HttpBackend.Transport {
    static final long MAX_BODY = 160L << 20;
    private final PeerLinks links;
    private final ApplianceId peer;
    private final String app;

    /** Transports to the backups app of any paired appliance, through {@code links}. */
    public static OffsiteBackups.Peers via(PeerLinks links) {
        return peer -> new PeerHttp(links, ApplianceId.parse(peer)
                .orElseThrow(() -> new IllegalArgumentException("not an appliance ID: " + peer)), "backups");
    }

    PeerHttp(PeerLinks links, ApplianceId peer, String app) {
        this.links = links;
        this.peer = peer;
        this.app = app;
    }

    @Override
    public HttpBackend.Response exchange(String method, String target, Map<String, String> headers, byte[] body)
            throws IOException {
        try (ChannelStream stream = links.open(peer, app)) {
            ChannelHttp.Response r = ChannelHttp.exchange(stream, app, method, target, headers, body, MAX_BODY);
            return new HttpBackend.Response(r.status(), r.headers(), r.body());
        } catch (ClientException e) {
            throw new IOException("appliance " + peer + " cannot be reached: " + e.getMessage(), e);
        } catch (AccessException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
