package org.intrustd.backup;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * One backup: when, of what, from where, and its root tree. Stored as sealed JSON in
 * {@code snapshots/}, named by the SHA-256 of the stored bytes (its id).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Snapshot(int version, String time, String host, String user, List<String> paths, List<String> tags,
        String tree, String parent, Summary summary, @JsonIgnore String id) {

    /** What a backup did. */
    public record Summary(long files, long dirs, long bytes, long filesNew, long filesChanged, long filesUnchanged,
            long blobsAdded, long bytesAdded, long storedAdded, double seconds) {
    }

    public Instant instant() {
        return Instant.parse(time);
    }

    public String shortId() {
        return id.substring(0, 8);
    }

    Snapshot withId(String newId) {
        return new Snapshot(version, time, host, user, paths, tags, tree, parent, summary, newId);
    }
}
