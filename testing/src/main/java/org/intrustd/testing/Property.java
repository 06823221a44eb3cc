package org.intrustd.testing;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Property tests without a framework: a check runs on many generated inputs, and a failure
 * names the seed and the input, so that {@code -Dintrustd.seed=N} reproduces it exactly.
 * Every run uses a fresh seed unless one is given, so CI keeps exploring new inputs.
 */
public final class Property {
  private Property() {}

  public static <T> void forAll(int tries, Gen<T> gen, Consumer<? super T> check) {
    long seed = Long.getLong("intrustd.seed", new SplittableRandom().nextLong());
    SplittableRandom random = new SplittableRandom(seed);
    for (int i = 0; i < tries; i++) {
      T input = gen.next(random);
      try {
        check.accept(input);
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("property failed on try " + (i + 1) + " of " + tries + " (reproduce with -Dintrustd.seed="
            + seed + "); input: " + show(input), e);
      }
    }
  }

  /** Two inputs at once. */
  public static <A, B> void forAll(int tries, Gen<A> a, Gen<B> b, java.util.function.BiConsumer<? super A, ? super B> check) {
    forAll(tries, r -> new Object[] {a.next(r), b.next(r)}, pair -> {
      @SuppressWarnings("unchecked")
      A first = (A) pair[0];
      @SuppressWarnings("unchecked")
      B second = (B) pair[1];
      check.accept(first, second);
    });
  }

  static String show(Object input) {
    String s = switch (input) {
      case byte[] b -> "bytes[" + b.length + "] " + HexFormat.of().formatHex(b, 0, Math.min(b.length, 256));
      case Object[] a -> Arrays.deepToString(Arrays.stream(a).map(o -> o instanceof byte[] b ? show(b) : o).toArray());
      case String str -> quote(str);
      default -> String.valueOf(input);
    };
    return s.length() > 2000 ? s.substring(0, 2000) + "…" : s;
  }

  /** A string with its invisible characters escaped, so a failing input can be read and copied. */
  private static String quote(String str) {
    StringBuilder out = new StringBuilder("\"");
    str.chars().limit(400).forEach(c -> {
      if (c < 0x20 || c == 0x7f || Character.isSurrogate((char) c)) {
        out.append(String.format("\\u%04x", c));
      } else {
        out.append((char) c);
      }
    });
    return out.append('"').toString();
  }
}
