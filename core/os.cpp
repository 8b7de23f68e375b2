// Invariants: nothing here blocks except futex_wait*, and nothing here calls
// a libc function that libgreen interposes. clock_gettime is used through
// the vDSO (libgreen never interposes it).
#include "os.h"

#include <asm/prctl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

namespace green::os {

int gettid() { return (int)syscall6(SYS_gettid); }

int futex_wait(const void* addr, uint32_t expected, const struct timespec* rel) {
  return (int)syscall6(SYS_futex, (long)addr, FUTEX_WAIT_PRIVATE, expected, (long)rel);
}

int futex_wait_abs(const void* addr, uint32_t expected, int64_t deadline_ns, clockid_t clock) {
  if (deadline_ns <= 0) return futex_wait(addr, expected, nullptr);
  struct timespec ts = {(time_t)(deadline_ns / 1000000000), (long)(deadline_ns % 1000000000)};
  int op = FUTEX_WAIT_BITSET_PRIVATE | (clock == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0);
  return (int)syscall6(SYS_futex, (long)addr, op, expected, (long)&ts, 0, FUTEX_BITSET_MATCH_ANY);
}

int futex_wake(const void* addr, int count) {
  return (int)syscall6(SYS_futex, (long)addr, FUTEX_WAKE_PRIVATE, count);
}

void* mmap_anon(size_t len, bool noreserve) {
  long flags = MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0);
  long r = syscall6(SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (r < 0 && r > -4096) return nullptr;
  return (void*)r;
}

int munmap(void* addr, size_t len) { return (int)syscall6(SYS_munmap, (long)addr, (long)len); }
int madvise(void* addr, size_t len, int advice) {
  return (int)syscall6(SYS_madvise, (long)addr, (long)len, advice);
}
int mprotect(void* addr, size_t len, int prot) {
  return (int)syscall6(SYS_mprotect, (long)addr, (long)len, prot);
}

void write_all(int fd, const char* buf, size_t len) {
  while (len > 0) {
    long n = syscall6(SYS_write, fd, (long)buf, (long)len);
    if (n == -EINTR) continue;
    if (n <= 0) return;
    buf += n;
    len -= (size_t)n;
  }
}

int read_file(const char* path, char* buf, int len) {
  int fd = (int)syscall6(SYS_openat, AT_FDCWD, (long)path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fd;
  long n = syscall6(SYS_read, fd, (long)buf, len - 1);
  syscall6(SYS_close, fd);
  if (n < 0) return (int)n;
  buf[n] = 0;
  return (int)n;
}

int high_fd_base() {
  struct rlimit rl;
  if (syscall6(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, (long)&rl) != 0) return 1024;
  return rl.rlim_cur > 2048 ? 1024 : (int)(rl.rlim_cur / 2);
}

int move_high(int fd) {
  int base = high_fd_base();
  if (fd < 0 || fd >= base) return fd;
  int high = (int)syscall6(SYS_fcntl, fd, F_DUPFD_CLOEXEC, base);
  if (high < 0) return fd;
  syscall6(SYS_close, fd);
  return high;
}

static bool still_ours(const kept_file& f) {
  struct stat st;
  return syscall6(SYS_fstat, f.fd, (long)&st) == 0 && st.st_dev == f.dev && st.st_ino == f.ino;
}

int read_kept(kept_file& f, char* buf, int len) {
  if (f.fd < 0 || !still_ours(f)) {  // never opened, or the number is not ours any more
    f.fd = -1;
    int low = (int)syscall6(SYS_openat, AT_FDCWD, (long)f.path, O_RDONLY | O_CLOEXEC);
    if (low < 0) return low;
    int high = move_high(low);
    if (high < high_fd_base()) {
      syscall6(SYS_close, high);
      return -EMFILE;
    }
    struct stat st;
    if (syscall6(SYS_fstat, high, (long)&st) != 0) {
      syscall6(SYS_close, high);
      return -EIO;
    }
    f.fd = high;
    f.dev = st.st_dev;
    f.ino = st.st_ino;
  }
  long n = syscall6(SYS_pread64, f.fd, (long)buf, len - 1, 0);
  if (n < 0) return (int)n;
  buf[n] = 0;
  return (int)n;
}

int64_t now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool have_fsgsbase() {
  static int cached = -1;
  if (cached < 0) cached = (getauxval(AT_HWCAP2) & (1 << 1)) ? 1 : 0;  // HWCAP2_FSGSBASE
  return cached == 1;
}

void set_thread_pointer(void* tp) {
  if (__builtin_expect(have_fsgsbase(), 1))
    asm volatile("wrfsbase %0" ::"r"(tp) : "memory");
  else
    syscall6(SYS_arch_prctl, ARCH_SET_FS, (long)tp);
}

// rt_sigreturn, encoded as glibc's __restore_rt (mov $15,%rax; syscall) so
// that libgcc's and libunwind's signal-frame detection sees it.
extern "C" void green_sigreturn();
asm(".text\n"
    ".globl green_sigreturn\n"
    ".hidden green_sigreturn\n"
    ".type green_sigreturn,@function\n"
    "  nop\n"
    "green_sigreturn:\n"
    "  movq $15, %rax\n"
    "  syscall\n"
    ".size green_sigreturn,.-green_sigreturn\n");

int set_signal_handler(int sig, void (*fn)(int, siginfo_t*, void*), unsigned long flags) {
  struct {
    void* handler;
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  } ksa = {(void*)fn, flags | SA_SIGINFO | 0x04000000 /* SA_RESTORER */, green_sigreturn, 0};
  return (int)syscall6(SYS_rt_sigaction, sig, (long)&ksa, 0, 8);
}

void* signal_handler(int sig) {
  struct {
    void* handler;
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  } old = {};
  if (syscall6(SYS_rt_sigaction, sig, 0, (long)&old, 8) < 0) return nullptr;  // SIG_DFL
  return old.handler;
}

void* thread_pointer() {
  void* tp;
  asm volatile("mov %%fs:0x10, %0" : "=r"(tp));  // tcbhead_t.self
  return tp;
}

}  // namespace green::os
