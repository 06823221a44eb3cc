package org.intrustd.backup;

import java.io.IOException;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.IsoFields;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Forgets snapshots by a retention policy, per group of snapshots with the same host and
 * paths. Going from the newest, a snapshot is kept when it is among the last {@code last},
 * or the newest of an hour, day, week, month or year for which the policy still has room, or
 * carries a tag to keep. Forgetting deletes the snapshot file only; {@link Prune} frees the
 * data no snapshot needs any more.
 */
public final class Forget {
    /** How many of each to keep (0: none by that rule); an empty policy keeps everything. */
    public record Policy(int last, int hourly, int daily, int weekly, int monthly, int yearly, Set<String> tags) {
        boolean empty() {
            return last == 0 && hourly == 0 && daily == 0 && weekly == 0 && monthly == 0 && yearly == 0 && tags.isEmpty();
        }
    }

    /** A snapshot and the reasons it is kept (none: forgotten). */
    public record Decision(Snapshot snapshot, List<String> reasons) {
        public boolean keep() {
            return !reasons.isEmpty();
        }
    }

    private Forget() {
    }

    /** What the policy keeps and forgets, newest first, without changing anything. */
    public static List<Decision> plan(List<Snapshot> snapshots, Policy policy, ZoneId zone) {
        Map<String, List<Snapshot>> groups = new LinkedHashMap<>();
        for (Snapshot s : snapshots) {
            groups.computeIfAbsent(s.host() + "\0" + String.join("\0", s.paths()), k -> new ArrayList<>()).add(s);
        }
        List<Decision> out = new ArrayList<>();
        for (List<Snapshot> group : groups.values()) {
            List<Snapshot> newest = new ArrayList<>(group);
            newest.sort((a, b) -> b.time().compareTo(a.time()));
            List<Rule> rules = List.of(
                    new Rule("last", policy.last(), t -> t.toString()),
                    new Rule("hourly", policy.hourly(), t -> t.toLocalDate() + "T" + t.getHour()),
                    new Rule("daily", policy.daily(), t -> t.toLocalDate().toString()),
                    new Rule("weekly", policy.weekly(), t -> t.get(IsoFields.WEEK_BASED_YEAR) + "W" + t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR)),
                    new Rule("monthly", policy.monthly(), t -> t.getYear() + "-" + t.getMonthValue()),
                    new Rule("yearly", policy.yearly(), t -> String.valueOf(t.getYear())));
            for (Snapshot s : newest) {
                ZonedDateTime t = s.instant().atZone(zone);
                List<String> reasons = new ArrayList<>();
                for (Rule r : rules) {
                    if (r.take(t, s)) {
                        reasons.add(r.name);
                    }
                }
                if (s.tags() != null && s.tags().stream().anyMatch(policy.tags()::contains)) {
                    reasons.add("tag");
                }
                if (policy.empty()) {
                    reasons.add("no policy");
                }
                out.add(new Decision(s, reasons));
            }
        }
        return out;
    }

    /** Deletes the snapshots the policy does not keep; returns the plan. */
    public static List<Decision> run(Repository repo, Policy policy, ZoneId zone) throws IOException {
        try (Lock lock = repo.lock(false, "forget")) {
            List<Decision> plan = plan(repo.snapshots(), policy, zone);
            for (Decision d : plan) {
                if (!d.keep()) {
                    repo.backend().delete(Backend.Kind.SNAPSHOT, d.snapshot().id());
                }
            }
            return plan;
        }
    }

    /** One bucket rule: keeps the newest snapshot of each new bucket while it has room. */
    private static final class Rule {
        final String name;
        int left;
        final Function<ZonedDateTime, String> bucket;
        final Set<String> seen = new HashSet<>();

        Rule(String name, int count, Function<ZonedDateTime, String> bucket) {
            this.name = name;
            this.left = count;
            this.bucket = bucket;
        }

        boolean take(ZonedDateTime t, Snapshot s) {
            // "last" buckets by the snapshot itself, so every one is a new bucket.
            String key = name.equals("last") ? s.id() : bucket.apply(t);
            if (left > 0 && seen.add(key)) {
                left--;
                return true;
            }
            return false;
        }
    }
}
