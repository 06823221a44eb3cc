package org.intrustd.appliance.bundles;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.intrustd.appliance.bundles.BundleException.Reason;

/**
 * Reads ustar archives with their POSIX pax ('x') and GNU long-name ('L', 'K') extensions, one
 * entry at a time, without judging the entries (that is {@link Unpacker}'s job). Strict about
 * structure: header checksums, the ustar magic, octal numbers, pax record syntax and an
 * end-of-archive marker are all required, and metadata records are bounded in size. Header
 * layout: see {@link TarWriter}. Not thread-safe.
 */
final class TarReader {
  private static final int BLOCK = TarWriter.BLOCK;
  /** Largest pax or GNU long-name record: far above PATH_MAX, far below a memory problem. */
  static final int MAX_METADATA = 64 * 1024;

  private final InputStream in;
  private long unreadContent;
  private long unreadPadding;
  private boolean ended;

  TarReader(InputStream in) {
    this.in = in;
  }

  /** The next entry, or empty at the end-of-archive marker. */
  Optional<TarEntry> next() throws IOException {
    skip(unreadContent + unreadPadding);
    unreadContent = 0;
    unreadPadding = 0;
    if (ended) {
      return Optional.empty();
    }
    Map<String, String> pax = new HashMap<>();
    String gnuName = null;
    String gnuLink = null;
    while (true) {
      byte[] h = readBlock();
      if (h == null) {
        throw malformed("it ends without an end-of-archive marker");
      }
      if (allZero(h)) {
        ended = true;
        return Optional.empty();
      }
      checkHeader(h);
      long size = octal(h, 124, 12, "size");
      byte flag = h[156];
      switch (flag) {
        case 'x' -> pax.putAll(paxRecords(metadata(size)));
        case 'g' -> {
          // Global records: ignorable ones are comments (git archive writes one); any that would
          // change how later entries read is refused rather than half-supported.
          Map<String, String> global = paxRecords(metadata(size));
          if (global.keySet().stream().anyMatch(k -> k.equals("path") || k.equals("linkpath") || k.equals("size"))) {
            throw malformed("a global pax header sets " + global.keySet());
          }
        }
        case 'L' -> gnuName = cString(metadata(size));
        case 'K' -> gnuLink = cString(metadata(size));
        default -> {
          String path = pax.containsKey("path") ? pax.get("path") : gnuName != null ? gnuName : headerName(h);
          String link = pax.containsKey("linkpath") ? pax.get("linkpath") : gnuLink != null ? gnuLink : field(h, 157, 100);
          if (pax.containsKey("size")) {
            size = decimal(pax.get("size"));
          }
          unreadContent = size;
          unreadPadding = (BLOCK - size % BLOCK) % BLOCK;
          return Optional.of(new TarEntry(path, TarEntry.type(flag), (int) octal(h, 100, 8, "mode"), size, link));
        }
      }
    }
  }

  /** The current entry's content; reading it is optional, {@link #next()} skips what is left. */
  InputStream content() {
    return new InputStream() {
      @Override
      public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (unreadContent == 0) {
          return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, unreadContent));
        if (n == -1) {
          throw malformed("it ends inside an entry");
        }
        unreadContent -= n;
        return n;
      }
    };
  }

  private void checkHeader(byte[] h) {
    String magic = new String(h, 257, 6, StandardCharsets.ISO_8859_1);
    if (!magic.equals("ustar\0") && !magic.equals("ustar ")) {
      throw malformed("an entry header lacks the ustar magic (old v7 archives are not accepted)");
    }
    long stored = octal(h, 148, 8, "checksum");
    long unsigned = 0;
    long signed = 0;
    for (int i = 0; i < BLOCK; i++) {
      int b = i >= 148 && i < 156 ? ' ' : h[i];
      unsigned += b & 0xff;
      signed += b;
    }
    // Some old tars summed signed bytes; POSIX says unsigned. Either is the same integrity check.
    if (stored != unsigned && stored != signed) {
      throw malformed("an entry header has a wrong checksum");
    }
  }

  /** ustar splits long names into prefix (POSIX magic only; GNU keeps other data there) and name. */
  private static String headerName(byte[] h) {
    String name = field(h, 0, 100);
    if (h[262] == 0) {
      String prefix = field(h, 345, 155);
      if (!prefix.isEmpty()) {
        return prefix + "/" + name;
      }
    }
    return name;
  }

  private byte[] metadata(long size) throws IOException {
    if (size > MAX_METADATA) {
      throw malformed("a pax or long-name record has " + size + " bytes (at most " + MAX_METADATA + ")");
    }
    byte[] data = in.readNBytes((int) size);
    if (data.length != size) {
      throw malformed("it ends inside a metadata record");
    }
    skip((BLOCK - size % BLOCK) % BLOCK);
    return data;
  }

  /** Parses "LEN KEY=VALUE\n" records; later records override earlier ones, as POSIX says. */
  static Map<String, String> paxRecords(byte[] data) {
    Map<String, String> records = new HashMap<>();
    int pos = 0;
    while (pos < data.length) {
      int space = pos;
      while (space < data.length && space - pos < 8 && data[space] >= '0' && data[space] <= '9') {
        space++;
      }
      if (space == pos || space >= data.length || data[space] != ' ') {
        throw malformed("a pax record has no length");
      }
      int len = Integer.parseInt(new String(data, pos, space - pos, StandardCharsets.US_ASCII));
      int end = pos + len;
      if (len <= space - pos + 1 || end > data.length || data[end - 1] != '\n') {
        throw malformed("a pax record has a wrong length");
      }
      String record = utf8(data, space + 1, end - 1 - (space + 1));
      int eq = record.indexOf('=');
      if (eq <= 0) {
        throw malformed("a pax record has no key");
      }
      records.put(record.substring(0, eq), record.substring(eq + 1));
      pos = end;
    }
    return records;
  }

  private static String cString(byte[] data) {
    int n = 0;
    while (n < data.length && data[n] != 0) {
      n++;
    }
    return utf8(data, 0, n);
  }

  private static String field(byte[] h, int offset, int width) {
    int n = 0;
    while (n < width && h[offset + n] != 0) {
      n++;
    }
    return utf8(h, offset, n);
  }

  /** Names must be UTF-8: anything else would be read differently by different tools. */
  private static String utf8(byte[] b, int offset, int length) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, offset, length)).toString();
    } catch (CharacterCodingException e) {
      throw malformed("a name or link target is not UTF-8");
    }
  }

  /** An octal field: optional leading spaces, octal digits, then only NULs or spaces. */
  private static long octal(byte[] h, int offset, int width, String what) {
    int i = offset;
    int end = offset + width;
    if ((h[i] & 0x80) != 0) {
      throw malformed("the " + what + " field uses base-256 (sizes of 8 GiB and more need a pax size record)");
    }
    while (i < end && h[i] == ' ') {
      i++;
    }
    long value = 0;
    int digits = 0;
    for (; i < end && h[i] >= '0' && h[i] <= '7'; i++, digits++) {
      value = value * 8 + (h[i] - '0');
    }
    for (; i < end; i++) {
      if (h[i] != 0 && h[i] != ' ') {
        throw malformed("the " + what + " field of an entry header is not an octal number");
      }
    }
    if (digits == 0 && !what.equals("mode")) {
      throw malformed("the " + what + " field of an entry header is empty");
    }
    return value;
  }

  private static long decimal(String s) {
    if (s.isEmpty() || s.length() > 18 || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw malformed("a pax size record is not a number: '" + s + "'");
    }
    return Long.parseLong(s);
  }

  /** A whole block; null at a clean end of input; an error inside a block. */
  private byte[] readBlock() throws IOException {
    byte[] b = in.readNBytes(BLOCK);
    if (b.length == 0) {
      return null;
    }
    if (b.length < BLOCK) {
      throw malformed("it ends inside an entry header");
    }
    return b;
  }

  private void skip(long n) throws IOException {
    byte[] buffer = new byte[8192];
    while (n > 0) {
      int r = in.read(buffer, 0, (int) Math.min(buffer.length, n));
      if (r == -1) {
        throw malformed("it ends inside an entry");
      }
      n -= r;
    }
  }

  private static boolean allZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  static BundleException malformed(String why) {
    return new BundleException(Reason.INVALID_CONTENT, "malformed archive: " + why);
  }
}
