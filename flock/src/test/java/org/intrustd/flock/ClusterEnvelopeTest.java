package org.intrustd.flock;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.UUID;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.identity.Identity;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/** What one flock node sends another is decoded without ever throwing. */
class ClusterEnvelopeTest {
  private static final ApplianceId ID = new Identity(Ed25519.generate()).id();
  private static final UUID NODE = UUID.randomUUID();

  @Test
  void everyKindRoundTrips() {
    for (ClusterEnvelope.Kind kind : ClusterEnvelope.Kind.values()) {
      boolean named = kind == ClusterEnvelope.Kind.INTRODUCE || kind == ClusterEnvelope.Kind.REPLACED;
      ClusterEnvelope e = new ClusterEnvelope(kind, NODE, named ? Optional.of(ID) : Optional.empty(),
          "{\"type\":\"bye\",\"session\":\"s\",\"reason\":\"line\\nbreak\"}\nand more");
      assertThat(ClusterEnvelope.decode(e.encode())).contains(e);
    }
  }

  @Test
  void aHeaderThatDoesNotFitItsKindIsRefused() {
    assertThat(ClusterEnvelope.decode("introduce " + NODE + " -\n{}")).isEmpty();
    assertThat(ClusterEnvelope.decode("to-client " + NODE + " " + ID + "\n{}")).isEmpty();
    assertThat(ClusterEnvelope.decode("nope " + NODE + " -\n{}")).isEmpty();
    assertThat(ClusterEnvelope.decode("to-client " + NODE.toString().toUpperCase() + " -\n{}")).isEmpty();
    assertThat(ClusterEnvelope.decode("to-client " + NODE + " -")).isEmpty();
    assertThat(ClusterEnvelope.decode("replaced " + NODE + " AAAAAAA-BBBBBBB\n")).isEmpty();
    assertThat(ClusterEnvelope.decode("to-client " + NODE + " -\n" + "x".repeat(ClusterEnvelope.MAX_CHARS))).isEmpty();
  }

  @Test
  void randomTextDecodesOrIsRefusedButNeverThrows() {
    Property.forAll(2_000, Gen.strings(200), text -> {
      assertThat(ClusterEnvelope.decode(text)).isNotNull();
    });
  }

  @Test
  void aValidEnvelopeWithOneCharacterChangedDecodesOrIsRefusedButNeverThrows() {
    String valid = new ClusterEnvelope(ClusterEnvelope.Kind.INTRODUCE, NODE, Optional.of(ID), "{}").encode();
    Gen<String> mutated = r -> {
      StringBuilder s = new StringBuilder(valid);
      int at = r.nextInt(s.length());
      switch (r.nextInt(3)) {
        case 0 -> s.deleteCharAt(at);
        case 1 -> s.insert(at, (char) r.nextInt(0x80));
        default -> s.setCharAt(at, (char) r.nextInt(0x80));
      }
      return s.toString();
    };
    Property.forAll(2_000, mutated, text -> ClusterEnvelope.decode(text).ifPresent(e -> {
      // Whatever decodes is well-formed: re-encoding gives a decodable envelope again.
      assertThat(ClusterEnvelope.decode(e.encode())).contains(e);
    }));
  }
}
