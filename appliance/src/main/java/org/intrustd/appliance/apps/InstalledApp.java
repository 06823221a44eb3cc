package org.intrustd.appliance.apps;

import java.nio.file.Path;

/** An app on this appliance: its manifest and the directory its files are in. */
public record InstalledApp(AppManifest manifest, Path directory) {
  public String id() {
    return manifest.id();
  }
}
