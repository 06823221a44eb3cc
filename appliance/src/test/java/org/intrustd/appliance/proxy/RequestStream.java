package org.intrustd.appliance.proxy;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.intrustd.appliance.proxy.RequestHead.BodyFraming;

/**
 * Runs a request stream through {@link RequestHeadParser} and {@link BodyFramer} the way
 * {@code Exchange} does (head, then exactly the framed body, then anything more is trailing), with
 * the stream cut into DATA payloads at given offsets, and says what came of it.
 */
final class RequestStream {
  private RequestStream() {}

  /** What the appliance made of a stream; equal for any cutting of the same bytes. */
  sealed interface Outcome {
    /** The head was refused with this status; nothing was forwarded. */
    record Refused(int status) implements Outcome {}

    /**
     * The head ({@code headBytes} long) was accepted, then the body was malformed: RESET. (How
     * much of the body went to the app before depends on the cutting, so it is not part of it.)
     */
    record BodyFailed(int headBytes) implements Outcome {}

    /** The head is not complete yet. */
    record HeadIncomplete() implements Outcome {}

    /**
     * The head was accepted; {@code bodyBytes} were forwarded as body, {@code trailing} bytes
     * came after its end, and {@code complete} says whether the body had ended.
     */
    record Accepted(String method, String target, String framing, int headBytes, long bodyBytes, long trailing,
        boolean complete) implements Outcome {}
  }

  static Outcome whole(byte[] stream) {
    return cutAt(stream, List.of());
  }

  static Outcome byteByByte(byte[] stream) {
    List<Integer> cuts = new ArrayList<>();
    for (int i = 1; i < stream.length; i++) {
      cuts.add(i);
    }
    return cutAt(stream, cuts);
  }

  /** The outcome with the stream cut before each of {@code cuts} (any order, out-of-range ignored). */
  static Outcome cutAt(byte[] stream, List<Integer> cuts) {
    TreeSet<Integer> points = new TreeSet<>();
    for (int c : cuts) {
      if (c > 0 && c < stream.length) {
        points.add(c);
      }
    }
    points.add(stream.length);
    RequestHeadParser parser = new RequestHeadParser();
    RequestHead head = null;
    BodyFramer framer = null;
    int headBytes = 0;
    long body = 0;
    long trailing = 0;
    int from = 0;
    for (int to : points) {
      // A slice with a non-zero offset, like a DATA payload inside a received message.
      ByteBuffer piece = ByteBuffer.wrap(stream, from, to - from).slice();
      from = to;
      if (head == null) {
        int before = piece.position();
        RequestHeadParser.Result result = parser.feed(piece);
        headBytes += piece.position() - before;
        switch (result) {
          case RequestHeadParser.Result.NeedMore more -> {
            if (piece.hasRemaining()) {
              throw new AssertionError("NeedMore left " + piece.remaining() + " bytes unread");
            }
            continue;
          }
          case RequestHeadParser.Result.Failed failed -> {
            return new Outcome.Refused(failed.status());
          }
          case RequestHeadParser.Result.Done done -> {
            head = done.head();
            framer = framerFor(head.framing());
          }
        }
      }
      if (trailing > 0 || (framer != null && framer.isDone())) {
        trailing += piece.remaining();
      } else if (framer == null) {
        body += piece.remaining(); // an upgraded stream: all of it
      } else {
        int position = piece.position();
        int n = framer.scan(piece);
        if (piece.position() != position) {
          throw new AssertionError("scan moved the position");
        }
        if (framer.isFailed()) {
          if (n != 0 || framer.failure().isEmpty()) {
            throw new AssertionError("a failed scan returns 0 and says why, not " + n + " '" + framer.failure() + "'");
          }
          return new Outcome.BodyFailed(headBytes);
        }
        if (n < 0 || n > piece.remaining()) {
          throw new AssertionError("scan returned " + n + " of " + piece.remaining());
        }
        body += n;
        trailing += piece.remaining() - n;
      }
    }
    if (head == null) {
      return new Outcome.HeadIncomplete();
    }
    return new Outcome.Accepted(head.method(), head.target(), framing(head.framing()), headBytes, body, trailing,
        framer == null || framer.isDone());
  }

  /** The framer {@code Exchange} uses for a framing, or null for an upgrade (everything is forwarded). */
  static BodyFramer framerFor(BodyFraming framing) {
    return switch (framing) {
      case BodyFraming.None n -> BodyFramer.forLength(0);
      case BodyFraming.Length l -> BodyFramer.forLength(l.bytes());
      case BodyFraming.Chunked c -> BodyFramer.chunked();
      case BodyFraming.Upgrade u -> null;
    };
  }

  /** The vector file's spelling of a framing. */
  static String framing(BodyFraming framing) {
    return switch (framing) {
      case BodyFraming.None n -> "none";
      case BodyFraming.Length l -> "length:" + l.bytes();
      case BodyFraming.Chunked c -> "chunked";
      case BodyFraming.Upgrade u -> "upgrade:" + u.protocol();
    };
  }

  /** The offsets to cut a stream at, one at a time: all of them, or for huge streams a sample that keeps the edges. */
  static List<Integer> singleCuts(int length, int... interesting) {
    List<Integer> out = new ArrayList<>();
    if (length <= 8_192) {
      for (int i = 0; i <= length; i++) {
        out.add(i);
      }
      return out;
    }
    for (int i = 0; i <= length; i += 997) {
      out.add(i);
    }
    for (int p : interesting) {
      for (int d = -4; d <= 4; d++) {
        if (p + d >= 0 && p + d <= length) {
          out.add(p + d);
        }
      }
    }
    out.add(length);
    return out;
  }
}
