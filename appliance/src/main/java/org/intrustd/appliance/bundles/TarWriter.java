package org.intrustd.appliance.bundles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a POSIX pax/ustar archive (POSIX.1-2008 "pax" format) deterministically: modification
 * time 0, uid and gid 0, no user or group names. Names and link targets that do not fit the
 * ustar fields, or are not ASCII, go into a pax extended header ('x') before the entry. Does not
 * judge what it writes (tests use it to craft hostile archives); {@link BundleWriter} does.
 * Not thread-safe.
 * <pre>
 * ustar header block (512 bytes; numbers are octal ASCII, NUL-terminated)
 * 0 name[100]  100 mode[8]  108 uid[8]  116 gid[8]  124 size[12]  136 mtime[12]
 * 148 chksum[8]  156 typeflag[1]  157 linkname[100]  257 magic "ustar\0"  263 version "00"
 * 265 uname[32]  297 gname[32]  329 devmajor[8]  337 devminor[8]  345 prefix[155]  500 pad[12]
 * </pre>
 */
final class TarWriter {
  static final int BLOCK = 512;
  private static final long MAX_OCTAL_SIZE = 077777777777L;
  private final OutputStream out;

  TarWriter(OutputStream out) {
    this.out = out;
  }

  void directory(String path, int mode) throws IOException {
    entry(path.endsWith("/") ? path : path + "/", TarEntry.Type.DIRECTORY, mode, 0, "", InputStream.nullInputStream());
  }

  void symlink(String path, String target) throws IOException {
    entry(path, TarEntry.Type.SYMLINK, 0777, 0, target, InputStream.nullInputStream());
  }

  void file(String path, int mode, long size, InputStream content) throws IOException {
    entry(path, TarEntry.Type.FILE, mode, size, "", content);
  }

  /** Writes any entry; {@code size} bytes of content are copied from {@code content}. */
  void entry(String path, TarEntry.Type type, int mode, long size, String link, InputStream content) throws IOException {
    Map<String, String> pax = new LinkedHashMap<>();
    byte[] name = path.getBytes(StandardCharsets.UTF_8);
    int split = ascii(path) ? split(name) : -1;
    if (split == -1) {
      pax.put("path", path);
    }
    byte[] linkBytes = link.getBytes(StandardCharsets.UTF_8);
    if (!ascii(link) || linkBytes.length > 100) {
      pax.put("linkpath", link);
    }
    if (size > MAX_OCTAL_SIZE) {
      pax.put("size", Long.toString(size));
    }
    if (!pax.isEmpty()) {
      byte[] records = paxRecords(pax);
      writeHeader("PaxHeader".getBytes(StandardCharsets.US_ASCII), -1, 'x', 0644, records.length, new byte[0]);
      out.write(records);
      pad(records.length);
    }
    writeHeader(name, split, TarEntry.flag(type), mode, size > MAX_OCTAL_SIZE ? 0 : size,
        pax.containsKey("linkpath") ? new byte[0] : linkBytes);
    long copied = content.transferTo(new BoundedOutput(out, size));
    if (copied != size) {
      throw new IOException(path + " has " + copied + " bytes, not the " + size + " announced");
    }
    pad(size);
  }

  /** The end-of-archive marker: two zero blocks. Does not close the stream. */
  void finish() throws IOException {
    out.write(new byte[2 * BLOCK]);
    out.flush();
  }

  /**
   * Where to cut a name into ustar's prefix and name fields: -2 when it fits the name field
   * alone, the index of the '/' to cut at, or -1 when it needs a pax header.
   */
  private static int split(byte[] name) {
    if (name.length <= 100) {
      return -2;
    }
    for (int i = Math.min(name.length - 2, 155); i > 0; i--) {
      if (name[i] == '/' && name.length - i - 1 <= 100) {
        return i;
      }
    }
    return -1;
  }

  private void writeHeader(byte[] name, int split, char type, int mode, long size, byte[] link) throws IOException {
    byte[] h = new byte[BLOCK];
    if (split >= 0) {
      System.arraycopy(name, split + 1, h, 0, name.length - split - 1);
      System.arraycopy(name, 0, h, 345, split);
    } else {
      // -1: the pax "path" record carries the name; the header keeps what fits, as other tars do.
      System.arraycopy(name, 0, h, 0, Math.min(name.length, 100));
    }
    octal(h, 100, 8, mode & 07777);
    octal(h, 108, 8, 0);
    octal(h, 116, 8, 0);
    octal(h, 124, 12, size);
    octal(h, 136, 12, 0);
    h[156] = (byte) type;
    System.arraycopy(link, 0, h, 157, Math.min(link.length, 100));
    System.arraycopy("ustar\00000".getBytes(StandardCharsets.US_ASCII), 0, h, 257, 8);
    octal(h, 329, 8, 0);
    octal(h, 337, 8, 0);
    java.util.Arrays.fill(h, 148, 156, (byte) ' ');
    int sum = 0;
    for (byte b : h) {
      sum += b & 0xff;
    }
    octal(h, 148, 7, sum);
    out.write(h);
  }

  /** {@code width - 1} octal digits and a NUL. */
  private static void octal(byte[] h, int offset, int width, long value) {
    String digits = Long.toOctalString(value);
    String padded = "0".repeat(width - 1 - digits.length()) + digits;
    System.arraycopy(padded.getBytes(StandardCharsets.US_ASCII), 0, h, offset, width - 1);
    h[offset + width - 1] = 0;
  }

  /** pax records "LEN KEY=VALUE\n", where LEN counts the whole record, its own digits included. */
  static byte[] paxRecords(Map<String, String> records) {
    StringBuilder s = new StringBuilder();
    for (var r : records.entrySet()) {
      int rest = r.getKey().length() + r.getValue().getBytes(StandardCharsets.UTF_8).length + 3;
      int len = rest + Integer.toString(rest).length();
      len = rest + Integer.toString(len).length();
      s.append(len).append(' ').append(r.getKey()).append('=').append(r.getValue()).append('\n');
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  private void pad(long size) throws IOException {
    out.write(new byte[(int) ((BLOCK - size % BLOCK) % BLOCK)]);
  }

  private static boolean ascii(String s) {
    return s.chars().allMatch(c -> c > 0 && c < 0x80);
  }

  /** Passes at most {@code limit} bytes, so a file that grew while packing cannot corrupt the archive. */
  private static final class BoundedOutput extends OutputStream {
    private final OutputStream out;
    private long left;

    BoundedOutput(OutputStream out, long limit) {
      this.out = out;
      this.left = limit;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (len > left) {
        throw new IOException("a file grew while it was being packed");
      }
      out.write(b, off, len);
      left -= len;
    }
  }
}
