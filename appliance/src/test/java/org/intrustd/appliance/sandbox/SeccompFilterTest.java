package org.intrustd.appliance.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;

/**
 * Runs the filter's classic-BPF program in a small interpreter (the kernel's semantics for the
 * opcodes it uses) over system call numbers, so that a wrong jump shows up here, not as an app
 * that cannot start or a call that slips through.
 */
class SeccompFilterTest {
  private static final int ALLOW = 0x7FFF_0000;
  private static final int EPERM = 0x0005_0001;
  private static final int ENOSYS = 0x0005_0026;
  private static final int KILL = 0x8000_0000;
  private static final byte[] PROGRAM = SeccompFilter.x86_64();

  /** Evaluates the program on struct seccomp_data {nr, arch, ip, args[6]}. */
  static int run(int arch, int nr, long arg0) {
    ByteBuffer data = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
    data.putInt(0, nr).putInt(4, arch).putLong(16, arg0);
    ByteBuffer prog = ByteBuffer.wrap(PROGRAM).order(ByteOrder.LITTLE_ENDIAN);
    int acc = 0;
    int pc = 0;
    for (int steps = 0; steps < 4096; steps++) {
      short code = prog.getShort(pc * 8);
      int jt = prog.get(pc * 8 + 2) & 0xFF;
      int jf = prog.get(pc * 8 + 3) & 0xFF;
      int k = prog.getInt(pc * 8 + 4);
      switch (code) {
        case 0x20 -> { acc = data.getInt(k); pc++; }
        case 0x15 -> pc += 1 + (acc == k ? jt : jf);
        case 0x35 -> pc += 1 + (Integer.compareUnsigned(acc, k) >= 0 ? jt : jf);
        case 0x45 -> pc += 1 + ((acc & k) != 0 ? jt : jf);
        case 0x06 -> { return k; }
        default -> throw new AssertionError("unexpected opcode " + code + " at " + pc);
      }
      if (pc * 8 >= PROGRAM.length) {
        throw new AssertionError("ran off the end of the program");
      }
    }
    throw new AssertionError("no return");
  }

  @Test
  void everyDeniedCallFailsWithEperm() {
    SeccompFilter.DENIED.forEach((name, nr) ->
        assertThat(run(SeccompFilter.ARCH_X86_64, nr, 0)).as(name).isEqualTo(EPERM));
  }

  @Test
  void everyOtherCallIsAllowed() {
    Property.forAll(2000, Gen.ints(0, 600), nr -> {
      boolean special = SeccompFilter.DENIED.containsValue(nr) || nr == SeccompFilter.CLONE3;
      if (!special) {
        assertThat(run(SeccompFilter.ARCH_X86_64, nr, 0)).as("syscall %d", nr).isEqualTo(ALLOW);
      }
    });
    // read, write, openat, mmap, futex, exit_group: what every program does
    for (int nr : new int[] {0, 1, 257, 9, 202, 231}) {
      assertThat(run(SeccompFilter.ARCH_X86_64, nr, 0)).isEqualTo(ALLOW);
    }
  }

  @Test
  void cloneIsAllowedForThreadsAndForksButNotForNamespaces() {
    int threadFlags = 0x3D0F00; // glibc's pthread_create
    int forkFlags = 0x01200011; // CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD
    assertThat(run(SeccompFilter.ARCH_X86_64, SeccompFilter.CLONE, threadFlags)).isEqualTo(ALLOW);
    assertThat(run(SeccompFilter.ARCH_X86_64, SeccompFilter.CLONE, forkFlags)).isEqualTo(ALLOW);
    for (int flag : new int[] {0x10000000, 0x40000000, 0x20000000, 0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x80}) {
      assertThat(run(SeccompFilter.ARCH_X86_64, SeccompFilter.CLONE, forkFlags | flag)).as("flag %x", flag)
          .isEqualTo(EPERM);
    }
    assertThat(run(SeccompFilter.ARCH_X86_64, SeccompFilter.CLONE3, 0)).as("clone3 → libc falls back").isEqualTo(ENOSYS);
  }

  @Test
  void otherAbisAreRefused() {
    assertThat(run(0x4000_0003, 1, 0)).as("i386").isEqualTo(KILL);
    assertThat(run(SeccompFilter.ARCH_X86_64, 0x4000_0000 | 1, 0)).as("x32 write").isEqualTo(EPERM);
  }
}
