package org.intrustd.appliance.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Opens the daemon's SQLite database the one way every store uses it: WAL journal (readers
 * never wait for the writer), a 5 s busy timeout between the stores' own connections, and full
 * sync where a returned answer must survive a crash (personas, tokens, sessions), normal sync
 * where losing the last moments on power loss is acceptable (the access log).
 */
public final class Sqlite {
  private Sqlite() {}

  public static Connection open(Path file, boolean fullSync) throws SQLException, IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Connection db = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
    try (Statement s = db.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute(fullSync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
      s.execute("PRAGMA busy_timeout=5000");
    } catch (SQLException e) {
      db.close();
      throw e;
    }
    return db;
  }
}
