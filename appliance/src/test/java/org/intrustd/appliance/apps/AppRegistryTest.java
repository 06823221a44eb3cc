package org.intrustd.appliance.apps;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AppRegistryTest {
  @TempDir
  Path root;

  static Path app(Path dir, String id) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("manifest.json"), "{\"id\": \"" + id + "\", \"run\": {\"command\": [\"/bin/true\"]}}");
    return dir;
  }

  @Test
  void aFolderOfAppsIsScannedInIdOrderAndDirectoriesWithoutManifestAreSkipped() throws IOException {
    app(root.resolve("b-dir"), "beta");
    app(root.resolve("a-dir"), "alpha");
    Files.createDirectories(root.resolve("not-an-app"));
    Files.writeString(root.resolve("README"), "loose file");
    AppRegistry registry = AppRegistry.scan(List.of(root));
    assertThat(registry.all()).extracting(InstalledApp::id).containsExactly("alpha", "beta");
    assertThat(registry.find("beta")).get().extracting(InstalledApp::directory)
        .isEqualTo(root.resolve("b-dir").toAbsolutePath().normalize());
    assertThat(registry.find("gamma")).isEmpty();
  }

  @Test
  void aRootThatHoldsAManifestIsOneApp() throws IOException {
    app(root, "solo");
    app(root.resolve("nested"), "ignored"); // an app directory is not searched for more apps
    assertThat(AppRegistry.scan(List.of(root)).all()).extracting(InstalledApp::id).containsExactly("solo");
  }

  @Test
  void appsFromSeveralRootsAreMerged() throws IOException {
    Path one = app(root.resolve("one"), "one");
    app(root.resolve("more/two"), "two");
    assertThat(AppRegistry.scan(List.of(one, root.resolve("more"))).all()).extracting(InstalledApp::id)
        .containsExactly("one", "two");
  }

  @Test
  void noRootsMeansNoApps() {
    assertThat(AppRegistry.scan(List.of()).all()).isEmpty();
  }

  @Test
  void duplicateAppIdsInOneFolderAreRefusedNamingBothDirectories() throws IOException {
    app(root.resolve("first"), "same");
    app(root.resolve("second"), "same");
    assertThatThrownBy(() -> AppRegistry.scan(List.of(root))).isInstanceOf(AppException.class)
        .hasMessageContaining("two apps named 'same'").hasMessageContaining("first").hasMessageContaining("second");
  }

  @Test
  void duplicateAppIdsAcrossRootsAreRefused() throws IOException {
    Path a = app(root.resolve("a"), "same");
    Path b = app(root.resolve("b"), "same");
    assertThatThrownBy(() -> AppRegistry.scan(List.of(a, b))).isInstanceOf(AppException.class)
        .hasMessageContaining("two apps named 'same'");
  }

  @Test
  void theSameAppDirectoryGivenTwiceIsADuplicate() throws IOException {
    Path a = app(root.resolve("a"), "twice");
    assertThatThrownBy(() -> AppRegistry.scan(List.of(a, a))).isInstanceOf(AppException.class)
        .hasMessageContaining("two apps named 'twice'");
  }

  @Test
  void aMissingRootIsAnAppException() {
    Path missing = root.resolve("missing");
    assertThatThrownBy(() -> AppRegistry.scan(List.of(missing))).isInstanceOf(AppException.class)
        .hasMessageContaining(missing + " does not exist");
  }

  @Test
  void aMalformedManifestInAFolderFailsTheScanNamingThatFile() throws IOException {
    app(root.resolve("good"), "good");
    Path bad = root.resolve("bad");
    Files.createDirectories(bad);
    Files.writeString(bad.resolve("manifest.json"), "{\"id\": \"Bad!\"}");
    assertThatThrownBy(() -> AppRegistry.scan(List.of(root))).isInstanceOf(AppException.class)
        .hasMessageContaining(bad.resolve("manifest.json").toString()).hasMessageContaining("app id 'Bad!'");
  }
}
