package org.intrustd.appliance.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.List;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.appliance.net.LocalHttp;
import org.intrustd.appliance.net.LocalHttp.HttpProblem;
import org.intrustd.appliance.net.LocalHttp.Request;
import org.intrustd.appliance.offsite.OffsiteBackups;
import org.intrustd.appliance.offsite.RecoveryKit;
import org.intrustd.backup.BackupException;
import org.intrustd.backup.Snapshot;
import org.intrustd.core.id.ApplianceId;

/**
 * {@code /v1/offsite}: off-site backups of this appliance's apps to a paired appliance.
 * {@code GET} the plan and how the last run went; {@code PUT {peer, everyHours}} sets it (and
 * starts a first run); {@code DELETE} stops; {@code POST /v1/offsite/run} runs now;
 * {@code GET /v1/offsite/key} the repository password to keep; {@code GET /v1/offsite/snapshots}
 * what the friend keeps, read back with that password; {@code POST /v1/offsite/restore {app,
 * snapshot?}} puts an app's data back from it (the latest snapshot unless one is named);
 * {@code GET /v1/offsite/key} also gives the recovery kit, and {@code POST /v1/offsite/recover
 * {kit, peer?}} rebuilds a lost appliance's apps here from it.
 */
final class OffsiteApi {
    private static final ObjectMapper JSON = LocalHttp.JSON;

    private final OffsiteBackups offsite;
    private final AccessStore store;

    OffsiteApi(OffsiteBackups offsite, AccessStore store) {
        this.offsite = offsite;
        this.store = store;
    }

    JsonNode handle(Request request, List<String> path) {
        String method = request.method();
        try {
            if (path.size() == 2) {
                switch (method) {
                    case "GET" -> {
                        return status();
                    }
                    case "PUT" -> {
                        JsonNode req = request.json();
                        String peer = ApplianceId.parse(LocalHttp.text(req, "peer")).map(ApplianceId::toString)
                                .orElseThrow(() -> new HttpProblem(400, "'peer' is not an appliance ID"));
                        if (store.peer(peer).isEmpty()) {
                            throw new HttpProblem(409, "appliance " + peer + " is not paired with this one (intrustd peer pair)");
                        }
                        int every = req.path("everyHours").asInt(24);
                        try {
                            offsite.set(new OffsiteBackups.Plan(peer, every));
                        } catch (IllegalArgumentException e) {
                            throw new HttpProblem(400, e.getMessage());
                        }
                        offsite.runNow();
                        return status();
                    }
                    case "DELETE" -> {
                        offsite.off();
                        return status();
                    }
                    default -> throw new HttpProblem(405, "GET, PUT or DELETE here");
                }
            }
            if (path.size() == 3 && path.get(2).equals("run")) {
                LocalHttp.requireMethod(request, "POST");
                if (offsite.plan().isEmpty()) {
                    throw new HttpProblem(409, "no off-site backups are set up: intrustd backup offsite set --peer ID");
                }
                ObjectNode out = status();
                out.put("started", offsite.runNow());
                return out;
            }
            if (path.size() == 3 && path.get(2).equals("restore")) {
                LocalHttp.requireMethod(request, "POST");
                JsonNode req = request.json();
                String app = LocalHttp.text(req, "app");
                java.util.Optional<String> snapshot = req.hasNonNull("snapshot")
                        ? java.util.Optional.of(LocalHttp.text(req, "snapshot")) : java.util.Optional.empty();
                return restored(offsite.restore(app, snapshot));
            }
            if (path.size() == 3 && path.get(2).equals("key")) {
                LocalHttp.requireMethod(request, "GET");
                return JSON.createObjectNode().put("key", offsite.key()).put("kit", offsite.kit().text());
            }
            if (path.size() == 3 && path.get(2).equals("recover")) {
                LocalHttp.requireMethod(request, "POST");
                return recover(request.json());
            }
            if (path.size() == 3 && path.get(2).equals("snapshots")) {
                LocalHttp.requireMethod(request, "GET");
                ArrayNode out = JSON.createArrayNode();
                for (Snapshot s : offsite.snapshots()) {
                    ObjectNode n = out.addObject().put("id", s.id()).put("time", s.time());
                    n.set("paths", JSON.valueToTree(s.paths()));
                    n.set("tags", JSON.valueToTree(s.tags()));
                    if (s.summary() != null) {
                        n.put("files", s.summary().files()).put("bytes", s.summary().bytes());
                    }
                }
                return JSON.createObjectNode().set("snapshots", out);
            }
            throw new HttpProblem(404, "no such resource under /v1/offsite");
        } catch (IOException e) {
            throw new HttpProblem(502, "off-site backups: " + e.getMessage());
        } catch (BackupException e) {
            throw new HttpProblem(409, e.getMessage());
        }
    }

    private ObjectNode recover(JsonNode req) throws IOException {
        RecoveryKit kit;
        try {
            kit = RecoveryKit.parse(LocalHttp.text(req, "kit"));
        } catch (IllegalArgumentException e) {
            throw new HttpProblem(400, e.getMessage());
        }
        String peer = req.hasNonNull("peer") ? ApplianceId.parse(LocalHttp.text(req, "peer")).map(ApplianceId::toString)
                .orElseThrow(() -> new HttpProblem(400, "'peer' is not an appliance ID"))
                : kit.friend().orElseThrow(() -> new HttpProblem(400, "the kit names no friend: say which one keeps the backups (peer)"));
        if (store.peer(peer).isEmpty()) {
            throw new HttpProblem(409, "appliance " + peer + " is not paired with this one: pair with the friend first (intrustd peer pair)");
        }
        OffsiteBackups.Recovered r = offsite.recover(kit, peer);
        ObjectNode out = JSON.createObjectNode().put("from", r.from()).put("peer", r.peer());
        out.set("moved", JSON.valueToTree(r.moved()));
        ArrayNode restored = out.putArray("restored");
        for (OffsiteBackups.Restored x : r.restored()) {
            restored.add(restored(x));
        }
        out.set("notInstalled", JSON.valueToTree(r.notInstalled()));
        out.set("failed", JSON.valueToTree(r.failed()));
        out.set("warnings", JSON.valueToTree(r.warnings()));
        return out;
    }

    private static ObjectNode restored(OffsiteBackups.Restored r) {
        ObjectNode out = JSON.createObjectNode().put("app", r.app()).put("snapshot", r.snapshot()).put("time", r.time())
                .put("files", r.files()).put("bytes", r.bytes());
        r.previous().ifPresentOrElse(p -> out.put("previous", p.toString()), () -> out.putNull("previous"));
        return out;
    }

    private ObjectNode status() throws IOException {
        OffsiteBackups.Status s = offsite.status();
        ObjectNode out = JSON.createObjectNode();
        s.plan().ifPresentOrElse(p -> out.putObject("plan").put("peer", p.peer()).put("everyHours", p.everyHours()),
                () -> out.putNull("plan"));
        out.put("running", s.running()).put("overdue", s.overdue());
        s.last().ifPresent(o -> out.set("last", JSON.valueToTree(o)));
        s.lastSuccessAt().ifPresent(t -> out.put("lastSuccessAt", t));
        s.nextAt().ifPresent(t -> out.put("nextAt", t));
        return out;
    }
}
