package org.intrustd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import org.intrustd.appliance.ApplianceDaemon;
import org.intrustd.appliance.access.AccessLog;
import org.intrustd.appliance.access.AccessStore;
import org.intrustd.appliance.apps.AppRegistry;
import org.intrustd.appliance.apps.AppSupervisor;
import org.intrustd.appliance.apps.ProcessLauncher;
import org.intrustd.appliance.bundles.BundleWriter;
import org.intrustd.appliance.bundles.PublisherKey;
import org.intrustd.appliance.control.ControlServer;
import org.intrustd.appliance.install.Installer;
import org.intrustd.appliance.permissions.Grants;
import org.intrustd.appliance.personas.PersonaStore;
import org.intrustd.core.id.ApplianceId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code intrustd app ...} and the access commands ({@code grant}, {@code token},
 * {@code session}, {@code access-log}) against a real control server (apps are never started here).
 */
class AppCommandTest {
  @TempDir
  Path tmp;
  private Path state;
  private AppSupervisor apps;
  private ControlServer control;
  private final java.util.concurrent.atomic.AtomicReference<org.intrustd.appliance.settings.Settings> settings =
      new java.util.concurrent.atomic.AtomicReference<>(
          new org.intrustd.appliance.settings.Settings("test box", java.net.URI.create("ws://127.0.0.1:1")));

  @BeforeEach
  void start() throws Exception {
    state = tmp.resolve("state");
    for (String id : List.of("notes", "photos")) {
      Path dir = Files.createDirectories(tmp.resolve("apps").resolve(id));
      Files.writeString(dir.resolve("manifest.json"),
          "{\"id\": \"" + id + "\", \"version\": \"2.1\", \"run\": {\"command\": [\"/bin/true\"]}}");
    }
    AppRegistry registry = AppRegistry.scan(List.of(tmp.resolve("apps")));
    apps = new AppSupervisor(registry, new ProcessLauncher(), state, Duration.ofSeconds(5), Duration.ofMinutes(10),
        InstantSource.system());
    Path db = state.resolve("appliance.db");
    control = ControlServer.start(ApplianceDaemon.controlSocket(state), ApplianceId.fromPublicKey(new byte[32]), apps,
        Grants.load(state), new Installer(state, registry, apps, id -> {}, id -> {}), PersonaStore.open(db),
        AccessStore.open(db), AccessLog.open(db, AccessLog.Detail.PATH), null, null,
        () -> new ControlServer.Status(settings.get().name(), settings.get().flock(), true, 2, state,
            java.util.Optional.empty()),
        settings::set);
  }

  @AfterEach
  void stop() {
    control.close();
    apps.close();
  }

  @Test
  void listShowsTheAppsAndTheirGrants() {
    assertThat(Run.run("app", "grant", "photos", "internet", "--host", "example.org:443", "--state", state.toString()).exit())
        .isZero();
    Run list = Run.run("app", "list", "--state", state.toString());
    assertThat(list.exit()).isZero();
    assertThat(list.out()).contains("APP").containsPattern("notes\\s+2.1\\s+stopped\\s+-")
        .containsPattern("photos\\s+2.1\\s+stopped\\s+internet \\(internet: example.org:443\\)");
  }

  @Test
  void grantAndRevokeWithJsonOutput() throws Exception {
    Run grant = Run.run("app", "grant", "photos", "app:notes", "--json", "--state", state.toString());
    assertThat(grant.exit()).isZero();
    assertThat(new ObjectMapper().readTree(grant.out()).path("grants").toString()).isEqualTo("[\"app:notes\"]");
    Run revoke = Run.run("app", "revoke", "photos", "app:notes", "--state", state.toString());
    assertThat(revoke.exit()).isZero();
    assertThat(Grants.load(state).of("photos").openApps()).isEmpty();
  }

  @Test
  void tokensAreMintedOnceListedWithoutSecretsAndRevoked() throws Exception {
    String st = state.toString();
    Run mint = Run.run("token", "mint", "intrustd+perm://photos/view?album=a", "--label", "for gran", "--max-uses", "3",
        "--expires-in", "7d", "--page", "https://photos.example/#old", "--state", st);
    assertThat(mint.exit()).as(mint.err()).isZero();
    assertThat(mint.out()).containsPattern("secret: it1_[A-Za-z0-9_-]{43}")
        .containsPattern("link: https://photos.example/#intrustd-appliance=[A-Z2-7-]+&intrustd-token=it1_");
    String id = mint.out().lines().findFirst().orElseThrow().split(" ")[1];
    Run list = Run.run("token", "list", "--state", st);
    assertThat(list.out()).contains(id).contains("for gran").contains("uses 0/3").doesNotContain("it1_");
    assertThat(Run.run("token", "revoke", id, "--state", st).exit()).isZero();
    assertThat(Run.run("token", "list", "--state", st).out()).isEqualTo("no tokens\n");
    assertThat(Run.run("token", "list", "--all", "--state", st).out()).contains("REVOKED");
    Run again = Run.run("token", "revoke", "nope", "--state", st);
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("no token with id 'nope'");
    // Ids are base64url: one may start with '-', and is an id, not an option.
    Run dash = Run.run("token", "revoke", "-Xb3", "--state", st);
    assertThat(dash.exit()).as(dash.err()).isEqualTo(1);
    assertThat(dash.err()).contains("no token with id '-Xb3'");
  }

  @Test
  void tokensForUnknownAppsOrWithBadPermissionsAreRefused() {
    String st = state.toString();
    Run unknown = Run.run("token", "mint", "intrustd+perm://nope/view", "--state", st);
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("no app named 'nope'");
    Run bad = Run.run("token", "mint", "photos/view", "--state", st);
    assertThat(bad.err()).contains("is not a permission");
    Run badExpiry = Run.run("token", "mint", "intrustd+perm://photos/view", "--expires-in", "soon", "--state", st);
    assertThat(badExpiry.err()).contains("a duration is");
  }

  @Test
  void grantsToPersonasAndAnyone() {
    String st = state.toString();
    assertThat(Run.run("grant", "add", "anyone", "intrustd+perm://intrustd/open?app=notes", "--state", st).exit()).isZero();
    assertThat(Run.run("grant", "list", "anyone", "--state", st).out())
        .isEqualTo("intrustd+perm://intrustd/open?app=notes\n");
    Run noPersona = Run.run("grant", "add", "persona:zed", "intrustd+perm://photos/view", "--state", st);
    assertThat(noPersona.exit()).isEqualTo(1);
    assertThat(noPersona.err()).contains("no persona named 'zed'");
    assertThat(Run.run("grant", "revoke", "anyone", "intrustd+perm://intrustd/open?app=notes", "--state", st).exit())
        .isZero();
    assertThat(Run.run("grant", "list", "anyone", "--state", st).out()).isEqualTo("anyone holds nothing\n");
    assertThat(Run.run("access-log", "--state", st).out()).isEqualTo("no entries\n");
    assertThat(Run.run("session", "list", "--state", st).out()).isEqualTo("no sessions\n");
  }

  @Test
  void personaAvatarsAreSetFromAFileAndRemoved() throws Exception {
    String st = state.toString();
    try (PersonaStore store = PersonaStore.open(state.resolve("appliance.db"))) {
      store.create("alice", "Alice", PersonaStore.Role.MEMBER, "alice's password");
    }
    Path png = tmp.resolve("a.png");
    Files.write(png, new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13});
    Run set = Run.run("persona", "avatar", "alice", png.toString(), "--state", st);
    assertThat(set.exit()).as(set.err()).isZero();
    assertThat(set.out()).contains("set the picture of alice");
    Path text = tmp.resolve("a.txt");
    Files.writeString(text, "not an image");
    Run bad = Run.run("persona", "avatar", "alice", text.toString(), "--state", st);
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("PNG, JPEG or WebP");
    assertThat(Run.run("persona", "avatar", "alice", "--remove", "--state", st).exit()).isZero();
    assertThat(Run.run("persona", "avatar", "alice", "--state", st).exit()).isEqualTo(2);
  }

  @Test
  void statusPrintsTheOverviewAndJson() throws Exception {
    Run text = Run.run("status", "--state", state.toString());
    assertThat(text.exit()).as(text.err()).isZero();
    assertThat(text.out()).contains("test box").contains("registered with ws://127.0.0.1:1").contains("links     2")
        .contains("not claimed").contains("lan       off").containsPattern("notes +2.1 +stopped");
    Run json = Run.run("status", "--json", "--state", state.toString());
    assertThat(new ObjectMapper().readTree(json.out()).get("links").asInt()).isEqualTo(2);
    assertThat(new ObjectMapper().readTree(json.out()).get("lan").isNull()).isTrue();
  }

  @Test
  void settingsAreShownAndChanged() throws Exception {
    Run shown = Run.run("settings", "--state", state.toString());
    assertThat(shown.exit()).as(shown.err()).isZero();
    assertThat(shown.out()).contains("name      test box").contains("flock     ws://127.0.0.1:1");
    Run changed = Run.run("settings", "--name", "Kitchen box", "--use-flock", "wss://flock.example.org", "--json",
        "--state", state.toString());
    assertThat(changed.exit()).as(changed.err()).isZero();
    assertThat(new ObjectMapper().readTree(changed.out()).get("flock").asText()).isEqualTo("wss://flock.example.org");
    assertThat(settings.get().name()).isEqualTo("Kitchen box");
    Run bad = Run.run("settings", "--use-flock", "http://nope", "--state", state.toString());
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("ws:// or wss:// URL");
  }

  @Test
  void refusalsAreExitOneWithTheReason() {
    Run unknownApp = Run.run("app", "grant", "nope", "internet", "--state", state.toString());
    assertThat(unknownApp.exit()).isEqualTo(1);
    assertThat(unknownApp.err()).contains("intrustd: no app named 'nope'");
    Run badPermission = Run.run("app", "grant", "photos", "everything", "--state", state.toString());
    assertThat(badPermission.exit()).isEqualTo(1);
    assertThat(badPermission.err()).contains("unknown permission 'everything'");
    Run notGranted = Run.run("app", "revoke", "photos", "internet", "--state", state.toString());
    assertThat(notGranted.exit()).isEqualTo(1);
    assertThat(notGranted.err()).contains("does not have the permission 'internet'");
  }

  @Test
  void trustInstallAndRemoveABundle() throws Exception {
    PublisherKey key = PublisherKey.generate();
    Path pub = tmp.resolve("me.pub");
    key.savePublic(pub);
    Path appDir = Files.createDirectories(tmp.resolve("src/diary"));
    Files.writeString(appDir.resolve("manifest.json"),
        "{\"id\": \"diary\", \"version\": \"0.3\", \"run\": {\"command\": [\"/bin/true\"]}}");
    Path bundle = tmp.resolve("diary.itb");
    BundleWriter.write(appDir, key, bundle);

    Run untrusted = Run.run("app", "install", bundle.toString(), "--state", state.toString());
    assertThat(untrusted.exit()).isEqualTo(1);
    assertThat(untrusted.err()).contains("no publisher is trusted yet");
    Run trust = Run.run("app", "trust", pub.toString(), "--state", state.toString());
    assertThat(trust.exit()).isZero();
    assertThat(trust.out()).contains("trusting publisher " + key.id());
    Run install = Run.run("app", "install", bundle.toString(), "--state", state.toString());
    assertThat(install.exit()).as(install.err()).isZero();
    assertThat(install.out()).containsPattern("diary\\s+0.3\\s+stopped");
    assertThat(Run.run("app", "list", "--state", state.toString()).out()).contains("diary");
    Run remove = Run.run("app", "remove", "diary", "--state", state.toString());
    assertThat(remove.exit()).isZero();
    assertThat(remove.out()).contains("removed diary; its data is kept");
    Files.write(bundle, new byte[] {1, 2, 3});
    Run garbage = Run.run("app", "install", bundle.toString(), "--state", state.toString());
    assertThat(garbage.exit()).isEqualTo(1);
    assertThat(garbage.err()).contains("bundle refused");
    assertThat(Run.run("app", "update", "diary", "--state", state.toString()).exit()).as("needs a bundle or --repo").isEqualTo(2);
  }

  @Test
  void personasAreAddedListedAndRemovedWithPasswordsFromStandardInput() {
    var stdin = System.in;
    try {
      System.setIn(new java.io.ByteArrayInputStream("a long password\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      Run add = Run.run("persona", "add", "alice", "--role", "owner", "--display-name", "Alice", "--password-stdin",
          "--state", state.toString());
      assertThat(add.exit()).as(add.err()).isZero();
      assertThat(add.out()).containsPattern("alice\\s+owner\\s+Alice");
      System.setIn(new java.io.ByteArrayInputStream("short\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      Run weak = Run.run("persona", "add", "bob", "--password-stdin", "--state", state.toString());
      assertThat(weak.exit()).isEqualTo(1);
      assertThat(weak.err()).contains("a password has 8 to 1024 characters");
    } finally {
      System.setIn(stdin);
    }
    assertThat(Run.run("persona", "list", "--state", state.toString()).out()).contains("alice").doesNotContain("bob");
    Run removeOwner = Run.run("persona", "remove", "alice", "--state", state.toString());
    assertThat(removeOwner.exit()).isEqualTo(1);
    assertThat(removeOwner.err()).contains("the owner cannot be removed");
    assertThat(Run.run("persona", "add", "carol", "--state", state.toString()).exit())
        .as("no terminal and no --password-stdin").isEqualTo(2);
  }

  @Test
  void noDaemonIsExitThreeAndBadUsageExitTwo() {
    Run none = Run.run("app", "list", "--state", tmp.resolve("other").toString());
    assertThat(none.exit()).isEqualTo(3);
    assertThat(none.err()).contains("no appliance daemon is running with this state directory");
    assertThat(Run.run("app", "grant", "photos").exit()).isEqualTo(2);
    assertThat(Run.run("app", "logs", "photos", "--lines", "many").exit()).isEqualTo(2);
  }
}
