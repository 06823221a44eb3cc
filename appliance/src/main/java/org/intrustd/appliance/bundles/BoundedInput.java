package org.intrustd.appliance.bundles;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.function.Supplier;

/**
 * An input stream that yields at most {@code max} bytes: it then either ends (a region of a
 * file) or throws (input that must not be larger, such as a download or a decompressed payload).
 */
final class BoundedInput extends FilterInputStream {
  private final Supplier<BundleException> overflow;
  private long left;

  private BoundedInput(InputStream in, long max, Supplier<BundleException> overflow) {
    super(in);
    this.left = max;
    this.overflow = overflow;
  }

  /** Ends after {@code max} bytes. */
  static InputStream region(InputStream in, long max) {
    return new BoundedInput(in, max, null);
  }

  /** Throws {@code overflow} when the input has more than {@code max} bytes. */
  static InputStream atMost(InputStream in, long max, Supplier<BundleException> overflow) {
    return new BoundedInput(in, max, overflow);
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    if (left == 0) {
      if (overflow == null || in.read() == -1) {
        return -1;
      }
      throw overflow.get();
    }
    int n = in.read(b, off, (int) Math.min(len, left));
    if (n > 0) {
      left -= n;
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    // By reading, so that the bound and any digest below see every byte.
    byte[] buffer = new byte[8192];
    long done = 0;
    for (int r; done < n && (r = read(buffer, 0, (int) Math.min(buffer.length, n - done))) > 0; ) {
      done += r;
    }
    return done;
  }

  @Override
  public int available() throws IOException {
    return (int) Math.min(in.available(), left);
  }

  @Override
  public boolean markSupported() {
    return false;
  }
}
