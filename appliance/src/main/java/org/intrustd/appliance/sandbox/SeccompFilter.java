package org.intrustd.appliance.sandbox;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The seccomp program every app runs under: a classic-BPF filter, in the binary form
 * bubblewrap's {@code --seccomp FD} loads, that fails with EPERM the system calls an app never
 * needs (debugging other processes, mounting, kernel keyrings, eBPF, modules, kexec, new
 * namespaces, io_uring, ...) and allows the rest. Built here rather than with libseccomp so
 * the daemon needs no native library; the table is for x86_64, the only architecture the
 * WebRTC library ships for. {@code clone3} fails with ENOSYS so that libc falls back to
 * {@code clone}, whose flags the filter can inspect (clone3 passes them in memory).
 */
public final class SeccompFilter {
  /** AUDIT_ARCH_X86_64. */
  static final int ARCH_X86_64 = 0xC000_003E;
  /** x32 system calls share the x86_64 architecture value and set this bit in the number. */
  private static final int X32_SYSCALL_BIT = 0x4000_0000;
  /** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME. */
  static final int CLONE_NEW_NAMESPACES = 0x0002_0000 | 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000
      | 0x2000_0000 | 0x4000_0000 | 0x80;

  /** Denied system calls and their x86_64 numbers (asm/unistd_64.h). */
  static final Map<String, Integer> DENIED = new TreeMap<>(Map.ofEntries(
      Map.entry("ptrace", 101), Map.entry("syslog", 103), Map.entry("uselib", 134), Map.entry("vhangup", 153),
      Map.entry("pivot_root", 155), Map.entry("_sysctl", 156), Map.entry("adjtimex", 159), Map.entry("chroot", 161),
      Map.entry("acct", 163), Map.entry("settimeofday", 164), Map.entry("mount", 165), Map.entry("umount2", 166),
      Map.entry("swapon", 167), Map.entry("swapoff", 168), Map.entry("reboot", 169), Map.entry("sethostname", 170),
      Map.entry("setdomainname", 171), Map.entry("iopl", 172), Map.entry("ioperm", 173),
      Map.entry("create_module", 174), Map.entry("init_module", 175), Map.entry("delete_module", 176),
      Map.entry("quotactl", 179), Map.entry("nfsservctl", 180), Map.entry("lookup_dcookie", 212),
      Map.entry("clock_settime", 227), Map.entry("kexec_load", 246), Map.entry("add_key", 248),
      Map.entry("request_key", 249), Map.entry("keyctl", 250), Map.entry("unshare", 272),
      Map.entry("perf_event_open", 298), Map.entry("name_to_handle_at", 303), Map.entry("open_by_handle_at", 304),
      Map.entry("clock_adjtime", 305), Map.entry("setns", 308), Map.entry("process_vm_readv", 310),
      Map.entry("process_vm_writev", 311), Map.entry("kcmp", 312), Map.entry("finit_module", 313),
      Map.entry("kexec_file_load", 320), Map.entry("bpf", 321), Map.entry("userfaultfd", 323),
      Map.entry("io_uring_setup", 425), Map.entry("io_uring_enter", 426), Map.entry("io_uring_register", 427),
      Map.entry("open_tree", 428), Map.entry("move_mount", 429), Map.entry("fsopen", 430),
      Map.entry("fsconfig", 431), Map.entry("fsmount", 432), Map.entry("fspick", 433),
      Map.entry("mount_setattr", 442)));
  static final int CLONE = 56;
  static final int CLONE3 = 435;

  private static final int EPERM = 1;
  private static final int ENOSYS = 38;
  private static final int RET_KILL_PROCESS = 0x8000_0000;
  private static final int RET_ERRNO = 0x0005_0000;
  private static final int RET_ALLOW = 0x7FFF_0000;
  // Classic BPF opcodes.
  private static final short LD_W_ABS = 0x20;
  private static final short JEQ_K = 0x15;
  private static final short JGE_K = 0x35;
  private static final short JSET_K = 0x45;
  private static final short RET_K = 0x06;
  // Offsets in struct seccomp_data.
  private static final int NR = 0;
  private static final int ARCH = 4;
  private static final int ARG0_LOW = 16;

  private SeccompFilter() {}

  /** How many system calls the filter denies (for reports). */
  public static int deniedCount() {
    return DENIED.size();
  }

  /** The filter for this machine, or empty where there is no table for its architecture. */
  public static Optional<byte[]> forThisMachine() {
    String arch = System.getProperty("os.arch");
    return "amd64".equals(arch) || "x86_64".equals(arch) ? Optional.of(x86_64()) : Optional.empty();
  }

  /** The x86_64 program, as consecutive little-endian {@code struct sock_filter}s. */
  static byte[] x86_64() {
    Program p = new Program();
    p.add(LD_W_ABS, 0, 0, ARCH);
    p.add(JEQ_K, 1, 0, ARCH_X86_64); // other ABIs (i386 via int 0x80) have other numbers: kill
    p.add(RET_K, 0, 0, RET_KILL_PROCESS);
    p.add(LD_W_ABS, 0, 0, NR);
    p.add(JGE_K, 0, 1, X32_SYSCALL_BIT);
    p.add(RET_K, 0, 0, RET_ERRNO | EPERM);
    p.add(JEQ_K, 0, 1, CLONE3);
    p.add(RET_K, 0, 0, RET_ERRNO | ENOSYS);
    p.add(JEQ_K, 0, 3, CLONE);
    p.add(LD_W_ABS, 0, 0, ARG0_LOW);
    p.add(JSET_K, 0, 1, CLONE_NEW_NAMESPACES);
    p.add(RET_K, 0, 0, RET_ERRNO | EPERM);
    // (after a clone without namespace flags the accumulator holds arg0, not the number:
    // reload it before the table; harmless on the other path)
    p.add(LD_W_ABS, 0, 0, NR);
    int denied = DENIED.size();
    int i = 0;
    for (int nr : DENIED.values()) {
      // Jump to the shared EPERM return after the table when it matches.
      int toDeny = denied - i; // instructions left in the table after this one, then ALLOW
      p.add(JEQ_K, toDeny, 0, nr);
      i++;
    }
    p.add(RET_K, 0, 0, RET_ALLOW);
    p.add(RET_K, 0, 0, RET_ERRNO | EPERM);
    return p.bytes();
  }

  private static final class Program {
    private final ByteBuffer buf = ByteBuffer.allocate(8 * 128).order(ByteOrder.LITTLE_ENDIAN);

    void add(short code, int jt, int jf, int k) {
      if (jt > 255 || jf > 255) {
        throw new IllegalStateException("BPF jump too far");
      }
      buf.putShort(code).put((byte) jt).put((byte) jf).putInt(k);
    }

    byte[] bytes() {
      byte[] out = new byte[buf.position()];
      buf.flip().get(out);
      return out;
    }
  }
}
