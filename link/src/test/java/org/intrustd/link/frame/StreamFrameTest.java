package org.intrustd.link.frame;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

class StreamFrameTest {
  private static final HexFormat HEX = HexFormat.of();

  private static JsonNode vectors() throws Exception {
    return new ObjectMapper().readTree(Files.readString(
        Path.of(System.getProperty("intrustd.spec.dir"), "vectors", "stream-frames.json")));
  }

  @Test
  void specValidFramesDecodeToTheirTypeAndPayloadAndReEncodeIdentically() throws Exception {
    for (JsonNode v : vectors().get("valid")) {
      byte[] message = HEX.parseHex(v.get("frame").asText());
      StreamFrame.Decoded d = StreamFrame.decode(ByteBuffer.wrap(message));
      assertThat(d).isInstanceOf(StreamFrame.Decoded.Ok.class);
      StreamFrame frame = ((StreamFrame.Decoded.Ok) d).frame();
      byte[] payload = HEX.parseHex(v.get("payload").asText());
      switch (frame) {
        case StreamFrame.Data data -> {
          assertThat(v.get("type").asText()).isEqualTo("DATA");
          assertThat(bytes(data.payload())).isEqualTo(payload);
        }
        case StreamFrame.End end -> assertThat(v.get("type").asText()).isEqualTo("END");
        case StreamFrame.Reset reset -> {
          assertThat(v.get("type").asText()).isEqualTo("RESET");
          assertThat(reset.reason()).isEqualTo(new String(payload, java.nio.charset.StandardCharsets.UTF_8));
        }
        case StreamFrame.Window window -> {
          assertThat(v.get("type").asText()).isEqualTo("WINDOW");
          assertThat(window.increment()).isEqualTo(v.get("increment").asInt());
        }
      }
      assertThat(bytes(StreamFrame.encode(frame))).isEqualTo(message);
    }
  }

  @Test
  void specInvalidFramesAreRejected() throws Exception {
    for (JsonNode v : vectors().get("invalid")) {
      StreamFrame.Decoded d = StreamFrame.decode(ByteBuffer.wrap(HEX.parseHex(v.get("frame").asText())));
      assertThat(d).as(v.get("why").asText()).isInstanceOf(StreamFrame.Decoded.Invalid.class);
    }
  }

  @Test
  void aLongResetReasonIsCutAtACharacterBoundary() {
    ByteBuffer m = StreamFrame.encode(new StreamFrame.Reset("é".repeat(600)));
    assertThat(m.remaining()).isLessThanOrEqualTo(1 + StreamFrame.MAX_REASON);
    assertThat(StreamFrame.decode(m)).isInstanceOf(StreamFrame.Decoded.Ok.class);
  }

  @Test
  void dataRoundTrips() {
    Property.forAll(500, Gen.bytes(1, 2000), payload -> {
      StreamFrame.Decoded d = StreamFrame.decode(StreamFrame.encode(new StreamFrame.Data(ByteBuffer.wrap(payload))));
      assertThat(bytes(((StreamFrame.Data) ((StreamFrame.Decoded.Ok) d).frame()).payload())).isEqualTo(payload);
    });
  }

  @Test
  void resetRoundTripsUpToItsLimit() {
    // Whole characters only: one to four UTF-8 bytes each, so cuts at the limit are exercised.
    Gen<String> reasons = Gen.of("a", "é", "✓", " ", "\u0000", "\uD83D\uDE00").list(600).map(l -> String.join("", l));
    Property.forAll(500, reasons, reason -> {
      StreamFrame.Decoded d = StreamFrame.decode(StreamFrame.encode(new StreamFrame.Reset(reason)));
      String back = ((StreamFrame.Reset) ((StreamFrame.Decoded.Ok) d).frame()).reason();
      assertThat(reason).startsWith(back);
    });
  }

  @Test
  void arbitraryMessagesAreAValueNeverAnException() {
    Property.forAll(3000, Gen.bytes(0, 1100), message -> assertThat(StreamFrame.decode(ByteBuffer.wrap(message))).isNotNull());
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
