package org.intrustd.backup;

import java.security.MessageDigest;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * FastCDC over 64 MiB of random bytes with the default sizes (512 KiB / 1 MiB / 8 MiB), one
 * core (issue 9: goal ≥ 1.5 GB/s). Baselines on the same bytes: the textbook gear loop (one
 * byte a step, every byte hashed, no skipping), and SHA-256 (what every chunk pays anyway for
 * its id, with the CPU's SHA extensions).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class ChunkerBench {
    static final int SIZE = 64 << 20;
    private byte[] data;
    private Chunker chunker;
    private long[] gear;
    private MessageDigest sha;

    @Setup
    public void setUp() throws Exception {
        data = new byte[SIZE];
        SplittableRandom r = new SplittableRandom(42);
        for (int i = 0; i < SIZE; i += 8) {
            long v = r.nextLong();
            for (int j = 0; j < 8; j++) {
                data[i + j] = (byte) (v >>> (8 * j));
            }
        }
        gear = Chunker.gearTable(new byte[32]);
        chunker = new Chunker(Chunker.Params.DEFAULT, gear);
        sha = MessageDigest.getInstance("SHA-256");
    }

    @Benchmark
    public int chunk() {
        int at = 0;
        int n = 0;
        while (at < SIZE) {
            at += chunker.cut(data, at, SIZE, true);
            n++;
        }
        return n;
    }

    /** Every byte through {@code fp = (fp << 1) + gear[b]}, a cut where the top 20 bits are zero and the chunk is big enough. */
    @Benchmark
    public int baselineGearEveryByte() {
        long mask = -1L << 44;
        long fp = 0;
        int start = 0;
        int n = 0;
        for (int i = 0; i < SIZE; i++) {
            fp = (fp << 1) + gear[data[i] & 0xFF];
            if ((fp & mask) == 0 && i - start >= 512 << 10) {
                start = i;
                n++;
            }
        }
        return n;
    }

    @Benchmark
    public byte[] baselineSha256() {
        return sha.digest(data);
    }
}
