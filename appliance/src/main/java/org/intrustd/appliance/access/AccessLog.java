package org.intrustd.appliance.access;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.sql.Connection;
import org.intrustd.appliance.db.Sqlite;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One access log for the whole appliance, in SQLite: every channel a client opened, who opened
 * it (persona, tokens), to which app, the request (as much of its target as {@link Detail}
 * says), the outcome, bytes each way, and the grant that let it through, so that the owner can
 * revoke "from here". {@link #record} never blocks: entries queue for a writer thread that
 * stores them in batches; when the queue is full, entries are counted as dropped and the
 * count is logged, rather than slowing a request.
 */
public final class AccessLog implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger("intrustd.access");
  static final int QUEUE = 10_000;
  private static final int BATCH = 256;
  public static final int MAX_QUERY = 1000;
  /** The id of the queue entry {@link #flush} sends through; never stored. */
  private static final long FLUSH_MARKER = -1;

  /** How much of a request's target the log keeps. */
  public enum Detail {
    /** The whole target, query included. */
    FULL,
    /** The path, without the query (the default: queries may carry search terms). */
    PATH,
    /** No target at all: only who, which app, when, and how it went. */
    NONE;

    public static Detail parse(String text) {
      try {
        return valueOf(text.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new AccessException(400, "access log detail is full, path or none, not '" + text + "'");
      }
    }
  }

  /**
   * One channel. {@code result} is {@code ok}, {@code refused} (the daemon said no),
   * {@code error} (the app or link failed) or {@code revoked} (closed by a revocation);
   * {@code grant} names what allowed it ({@code role:owner}, {@code persona:alice},
   * {@code token:<id>}, {@code anyone}, {@code public}) or is empty.
   */
  public record Entry(long id, Instant at, String link, Optional<String> persona, List<String> tokens, String app,
      String method, String target, int status, long bytesIn, long bytesOut, long millis, String result,
      String grant) {}

  /** What to select; empty parts select everything. Newest first, at most {@code limit}. */
  public record Query(Optional<String> app, Optional<String> persona, Optional<String> token, Optional<Instant> from,
      Optional<Instant> to, int limit) {}

  private final Connection db;
  private final Detail detail;
  private final BlockingQueue<Entry> queue = new ArrayBlockingQueue<>(QUEUE);
  private final AtomicLong dropped = new AtomicLong();
  /** Callers of {@link #flush} waiting for the writer to pass their marker. */
  private final List<CountDownLatch> flushes = new ArrayList<>();
  private final Thread writer;
  private volatile boolean closing;

  private AccessLog(Connection db, Detail detail) {
    this.db = db;
    this.detail = detail;
    this.writer = Thread.ofPlatform().name("access-log").daemon().start(this::writeLoop);
  }

  public static AccessLog open(Path file, Detail detail) {
    try {
      Connection db = Sqlite.open(file, false);
      try (Statement s = db.createStatement()) {
        s.execute("""
            CREATE TABLE IF NOT EXISTS access_log (
              id INTEGER PRIMARY KEY,
              at INTEGER NOT NULL,
              link TEXT NOT NULL,
              persona TEXT,
              tokens TEXT NOT NULL,
              app TEXT NOT NULL,
              method TEXT NOT NULL,
              target TEXT NOT NULL,
              status INTEGER NOT NULL,
              bytes_in INTEGER NOT NULL,
              bytes_out INTEGER NOT NULL,
              millis INTEGER NOT NULL,
              result TEXT NOT NULL,
              grant_ref TEXT NOT NULL)""");
        s.execute("CREATE INDEX IF NOT EXISTS access_log_at ON access_log(at)");
        s.execute("CREATE INDEX IF NOT EXISTS access_log_app ON access_log(app, at)");
        s.execute("CREATE INDEX IF NOT EXISTS access_log_persona ON access_log(persona, at)");
      }
      return new AccessLog(db, detail);
    } catch (java.io.IOException | SQLException e) {
      throw new AccessException(500, "cannot open the access log in " + file + ": " + e.getMessage(), -1, e);
    }
  }

  /** Queues an entry (its id is assigned when stored); never blocks. */
  public void record(Entry e) {
    String target = switch (detail) {
      case FULL -> e.target();
      case PATH -> e.target().indexOf('?') < 0 ? e.target() : e.target().substring(0, e.target().indexOf('?'));
      case NONE -> "";
    };
    Entry kept = new Entry(0, e.at(), e.link(), e.persona(), e.tokens(), e.app(), e.method(),
        target.length() > 2048 ? target.substring(0, 2048) : target, e.status(), e.bytesIn(), e.bytesOut(),
        e.millis(), e.result(), e.grant());
    if (closing || !queue.offer(kept)) {
      long n = dropped.incrementAndGet();
      if (Long.bitCount(n) == 1) { // 1, 2, 4, 8…: say so without flooding the log
        LOG.log(Level.WARNING, "access log is behind: {0} entries dropped so far", n);
      }
    }
  }

  public long dropped() {
    return dropped.get();
  }

  /** Waits until everything queued before this call is stored (tests, shutdown). */
  public void flush() throws InterruptedException {
    CountDownLatch done = new CountDownLatch(1);
    Entry marker = new Entry(FLUSH_MARKER, Instant.EPOCH, "", Optional.empty(), List.of(), "", "", "", 0, 0, 0, 0, "", "");
    synchronized (flushes) {
      flushes.add(done);
    }
    queue.put(marker);
    done.await(10, TimeUnit.SECONDS);
  }

  private void writeLoop() {
    List<Entry> batch = new ArrayList<>(BATCH);
    while (!closing || !queue.isEmpty()) {
      try {
        Entry first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.add(first);
        queue.drainTo(batch, BATCH - 1);
        store(batch);
      } catch (InterruptedException e) {
        closing = true;
      } finally {
        if (batch.stream().anyMatch(x -> x.id() == FLUSH_MARKER)) {
          synchronized (flushes) {
            flushes.forEach(CountDownLatch::countDown);
            flushes.clear();
          }
        }
        batch.clear();
      }
    }
  }

  private void store(List<Entry> batch) {
    synchronized (db) {
      try (PreparedStatement ps = db.prepareStatement("""
          INSERT INTO access_log(at, link, persona, tokens, app, method, target, status, bytes_in, bytes_out, millis,
            result, grant_ref) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
        db.setAutoCommit(false);
        for (Entry e : batch) {
          if (e.id() == FLUSH_MARKER) {
            continue;
          }
          ps.setLong(1, e.at().toEpochMilli());
          ps.setString(2, e.link());
          ps.setString(3, e.persona().orElse(null));
          ps.setString(4, String.join(",", e.tokens()));
          ps.setString(5, e.app());
          ps.setString(6, e.method());
          ps.setString(7, e.target());
          ps.setInt(8, e.status());
          ps.setLong(9, e.bytesIn());
          ps.setLong(10, e.bytesOut());
          ps.setLong(11, e.millis());
          ps.setString(12, e.result());
          ps.setString(13, e.grant());
          ps.addBatch();
        }
        ps.executeBatch();
        db.commit();
      } catch (SQLException e) {
        LOG.log(Level.WARNING, "access log: {0} entries not stored: {1}", batch.size(), e.getMessage());
        try {
          db.rollback();
        } catch (SQLException ignored) {
          // the next batch starts a new transaction
        }
      } finally {
        try {
          db.setAutoCommit(true);
        } catch (SQLException ignored) {
          // as above
        }
      }
    }
  }

  public List<Entry> query(Query q) {
    StringBuilder sql = new StringBuilder("""
        SELECT id, at, link, persona, tokens, app, method, target, status, bytes_in, bytes_out, millis, result, grant_ref
        FROM access_log WHERE 1 = 1""");
    List<Object> args = new ArrayList<>();
    q.app().ifPresent(v -> {
      sql.append(" AND app = ?");
      args.add(v);
    });
    q.persona().ifPresent(v -> {
      sql.append(" AND persona = ?");
      args.add(v);
    });
    q.token().ifPresent(v -> {
      sql.append(" AND (',' || tokens || ',') LIKE ? ESCAPE '\\'");
      args.add("%," + v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + ",%");
    });
    q.from().ifPresent(v -> {
      sql.append(" AND at >= ?");
      args.add(v.toEpochMilli());
    });
    q.to().ifPresent(v -> {
      sql.append(" AND at < ?");
      args.add(v.toEpochMilli());
    });
    sql.append(" ORDER BY at DESC, id DESC LIMIT ?");
    args.add(Math.max(1, Math.min(q.limit(), MAX_QUERY)));
    List<Entry> out = new ArrayList<>();
    synchronized (db) {
      try (PreparedStatement ps = db.prepareStatement(sql.toString())) {
        for (int i = 0; i < args.size(); i++) {
          ps.setObject(i + 1, args.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String tokens = rs.getString(5);
            out.add(new Entry(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3),
                Optional.ofNullable(rs.getString(4)), tokens.isEmpty() ? List.of() : List.of(tokens.split(",")),
                rs.getString(6), rs.getString(7), rs.getString(8), rs.getInt(9), rs.getLong(10), rs.getLong(11),
                rs.getLong(12), rs.getString(13), rs.getString(14)));
          }
        }
      } catch (SQLException e) {
        throw new AccessException(500, "cannot read the access log: " + e.getMessage(), -1, e);
      }
    }
    return out;
  }

  /** Deletes entries older than {@code keep}; returns how many. */
  public int expire(Duration keep) {
    synchronized (db) {
      try (PreparedStatement ps = db.prepareStatement("DELETE FROM access_log WHERE at < ?")) {
        ps.setLong(1, System.currentTimeMillis() - keep.toMillis());
        return ps.executeUpdate();
      } catch (SQLException e) {
        LOG.log(Level.WARNING, "access log retention: {0}", e.getMessage());
        return 0;
      }
    }
  }

  @Override
  public void close() {
    closing = true;
    try {
      writer.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    synchronized (db) {
      try {
        db.close();
      } catch (SQLException e) {
        LOG.log(Level.WARNING, "closing the access log: {0}", e.getMessage());
      }
    }
  }
}
