package org.intrustd.appliance.access;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.appliance.proxy.RequestHeadParser;
import org.intrustd.appliance.proxy.RequestHeadParserBench;
import org.intrustd.core.access.Permission;
import org.intrustd.core.id.ApplianceId;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What admitting one request costs ({@link LinkAccess#admit}: session, persona, grants and
 * tokens read from SQLite, trusted headers built), for a member with a session and a token, and
 * for an anonymous visitor of a public app, against parsing the request's head — the work the
 * daemon does for every request anyway.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LinkAccessBench {
  private Path dir;
  private PersonaStore personas;
  private AccessStore store;
  private LinkAccess links;
  private final byte[] head = RequestHeadParserBench.HEAD.getBytes(StandardCharsets.ISO_8859_1);

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("intrustd-bench-access-");
    Path db = dir.resolve("appliance.db");
    personas = PersonaStore.open(db);
    store = AccessStore.open(db);
    links = new LinkAccess(ApplianceId.fromPublicKey(new byte[32]), store, personas, Set.of("hello"),
        InstantSource.system());
    personas.create("bob", "Bob", PersonaStore.Role.MEMBER, "bob's password");
    for (String p : new String[] {"intrustd+perm://photos/view", "intrustd+perm://photos/edit?album=a",
        "intrustd+perm://notes/read"}) {
      store.grant(AccessStore.persona("bob"), Permission.parse(p));
    }
    links.register("member", "sha-256 AA");
    links.bindSession("member", store.createSession("bob", new byte[] {1}, "bench").session());
    links.attachToken("member", store.redeem(store.mint(new AccessStore.TokenSpec(
        java.util.List.of(Permission.parse("intrustd+perm://photos/view?album=b")), java.util.Optional.empty(), "b",
        "owner", java.util.Optional.empty(), java.util.Optional.empty(), java.util.OptionalLong.empty())).secret(),
        java.time.Instant.now()));
    links.register("visitor", "sha-256 BB");
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    store.close();
    personas.close();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  public Object admitMember() {
    return links.admit("member", "photos");
  }

  @Benchmark
  public Object admitAnonymousPublic() {
    return links.admit("visitor", "hello");
  }

  @Benchmark
  public Object baselineParseHead() {
    return new RequestHeadParser().feed(ByteBuffer.wrap(head));
  }
}
