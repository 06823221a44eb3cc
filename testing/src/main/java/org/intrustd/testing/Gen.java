package org.intrustd.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * A generator of test inputs from a seeded random source. Generators lean towards edge cases
 * (empty, shortest, longest, boundary characters) as well as random values, because that is
 * where parsers break.
 */
@FunctionalInterface
public interface Gen<T> {
  T next(SplittableRandom random);

  default <R> Gen<R> map(Function<? super T, ? extends R> f) {
    return r -> f.apply(next(r));
  }

  /** Empty one time in four, otherwise a value. */
  default Gen<Optional<T>> optional() {
    return r -> r.nextInt(4) == 0 ? Optional.empty() : Optional.of(next(r));
  }

  default Gen<List<T>> list(int maxSize) {
    return r -> {
      int n = size(r, 0, maxSize);
      List<T> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        out.add(next(r));
      }
      return out;
    };
  }

  static Gen<Integer> ints(int min, int max) {
    return r -> switch (r.nextInt(8)) {
      case 0 -> min;
      case 1 -> max;
      default -> min + (int) r.nextLong((long) max - min + 1);
    };
  }

  static Gen<byte[]> bytes(int minLength, int maxLength) {
    return r -> {
      byte[] b = new byte[size(r, minLength, maxLength)];
      r.nextBytes(b);
      return b;
    };
  }

  /** Strings of any UTF-16 content, including controls, surrogates and non-BMP characters. */
  static Gen<String> strings(int maxLength) {
    return r -> {
      int n = size(r, 0, maxLength);
      StringBuilder s = new StringBuilder(n);
      for (int i = 0; i < n; i++) {
        s.append(switch (r.nextInt(6)) {
          case 0 -> (char) r.nextInt(0x20);
          case 1 -> (char) (0xD800 + r.nextInt(0x800));
          case 2 -> (char) r.nextInt(0x10000);
          default -> (char) (0x20 + r.nextInt(0x5f));
        });
      }
      return s.toString();
    };
  }

  /** Strings drawn from the given characters only. */
  static Gen<String> stringsOf(String alphabet, int minLength, int maxLength) {
    return r -> {
      int n = size(r, minLength, maxLength);
      StringBuilder s = new StringBuilder(n);
      for (int i = 0; i < n; i++) {
        s.append(alphabet.charAt(r.nextInt(alphabet.length())));
      }
      return s.toString();
    };
  }

  @SafeVarargs
  static <T> Gen<T> of(T... values) {
    List<T> copy = Arrays.asList(values.clone());
    return r -> copy.get(r.nextInt(copy.size()));
  }

  @SafeVarargs
  static <T> Gen<T> oneOf(Gen<? extends T>... gens) {
    Gen<? extends T>[] copy = gens.clone();
    return r -> copy[r.nextInt(copy.length)].next(r);
  }

  /** A length in [min, max] that is min or max one time in four. */
  private static int size(SplittableRandom r, int min, int max) {
    return switch (r.nextInt(8)) {
      case 0 -> min;
      case 1 -> max;
      default -> min + r.nextInt(max - min + 1);
    };
  }
}
