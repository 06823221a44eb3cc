package org.intrustd.flock;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The open sessions of one connection, keyed by the id that connection knows them by (the
 * client's own id on {@code /client}, the flock's random id on {@code /appliance}). Once the
 * connection ends the table is closed and refuses new sessions, so that an introduction racing
 * with a disconnect cannot leave a session behind. Thread-safe.
 */
final class Sessions {
  enum Added { ADDED, EXISTS, FULL, CLOSED }

  private final Map<String, Link> open = new HashMap<>();
  private boolean closed;

  synchronized Added add(String id, Link link, int max) {
    if (closed) {
      return Added.CLOSED;
    }
    if (open.containsKey(id)) {
      return Added.EXISTS;
    }
    if (open.size() >= max) {
      return Added.FULL;
    }
    open.put(id, link);
    return Added.ADDED;
  }

  synchronized Optional<Link> get(String id) {
    return Optional.ofNullable(open.get(id));
  }

  synchronized void remove(String id, Link link) {
    open.remove(id, link);
  }

  /** Closes the table and returns the sessions that were open. */
  synchronized List<Link> close() {
    closed = true;
    List<Link> all = new ArrayList<>(open.values());
    open.clear();
    return all;
  }
}
