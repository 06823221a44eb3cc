package org.intrustd.appliance.testing;

import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Map;
import java.util.Set;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.appliance.access.AppTokenApi;
import org.intrustd.appliance.access.LinkAccess;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.core.id.ApplianceId;

/** Real access stores in a test's directory, and the app token API over them. */
public final class TestAccess implements AutoCloseable {
  public static final ApplianceId APPLIANCE = ApplianceId.fromPublicKey(new byte[32]);
  public final PersonaStore personas;
  public final AccessStore store;
  public final LinkAccess links;
  public final AppTokenApi tokens;

  /** {@code defines}: the permission names each app defines. */
  public TestAccess(Path dir, Map<String, Set<String>> defines) {
    Path db = dir.resolve("appliance.db");
    personas = PersonaStore.open(db);
    store = AccessStore.open(db);
    links = new LinkAccess(APPLIANCE, store, personas, Set.of(), InstantSource.system());
    store.onRevoke(links::enforce);
    tokens = new AppTokenApi(APPLIANCE, store, links, app -> defines.getOrDefault(app, Set.of()));
  }

  @Override
  public void close() {
    store.close();
    personas.close();
  }
}
