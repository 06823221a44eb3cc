package org.intrustd.core.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Loads the test vectors of docs/spec/vectors, which the build passes as intrustd.spec.dir. */
public final class SpecVectors {
  private SpecVectors() {}

  public static JsonNode load(String name) {
    String dir = System.getProperty("intrustd.spec.dir");
    if (dir == null) {
      throw new IllegalStateException("run through Maven: intrustd.spec.dir names docs/spec");
    }
    Path file = Path.of(dir, "vectors", name);
    try {
      return new ObjectMapper().readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read spec vector file " + file, e);
    }
  }
}
