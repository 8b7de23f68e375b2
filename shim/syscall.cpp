// syscall(2). Private futex waits from a G on an application's word park the
// G on core's parking lot (core/futex.cpp explains why that cannot lose a
// wake-up); every private FUTEX_WAKE first wakes Gs parked on that word and
// then the kernel's waiters (threads libgreen does not run), and requeue /
// wake-op calls wake every parked G of their words (a spurious wake-up,
// which futex users must tolerate) before the real call. Everything else,
// shared futexes included, is the real system call in a syscall section.
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <string.h>

#include <atomic>

#include "os.h"
#include "shim.h"
#include "sync.h"

namespace {

// Writable data of the C library and the loader: glibc waits and wakes on
// its own words with raw system calls, so they never go on the parking lot.
struct range {
  uintptr_t lo, hi;
};
range libc_data[8];
int nlibc_data;
std::atomic<int> libc_state{0};  // 0 unknown, 1 scanning, 2 known

int scan(struct dl_phdr_info* info, size_t, void*) {
  const char* name = info->dlpi_name ? info->dlpi_name : "";
  if (!strstr(name, "libc.so") && !strstr(name, "ld-linux")) return 0;
  for (int i = 0; i < info->dlpi_phnum && nlibc_data < 8; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W))
      libc_data[nlibc_data++] = {info->dlpi_addr + ph.p_vaddr,
                                 info->dlpi_addr + ph.p_vaddr + ph.p_memsz};
  }
  return 0;
}

bool libc_word(const void* addr) {
  int s = libc_state.load(std::memory_order_acquire);
  if (s != 2) {
    if (s == 1 || !libc_state.compare_exchange_strong(s, 1)) return true;  // be safe meanwhile
    dl_iterate_phdr(scan, nullptr);
    libc_state.store(2, std::memory_order_release);
  }
  auto a = reinterpret_cast<uintptr_t>(addr);
  for (int i = 0; i < nlibc_data; i++)
    if (a >= libc_data[i].lo && a < libc_data[i].hi) return true;
  return false;
}

long result(long r) {
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return -1;
  }
  return r;
}

long real(long n, const long* a) {
  green::syscall_enter();
  long r = green::os::syscall6(n, a[0], a[1], a[2], a[3], a[4], a[5]);
  green::syscall_exit();
  return result(r);
}

constexpr long NS = 1000000000L;

// A private futex wait on the parking lot; false: make the real call.
bool park_wait(const long* a, int cmd, int op, long* out) {
  auto* addr = reinterpret_cast<const uint32_t*>(a[0]);
  if (!green::on_green() || !addr || (a[0] & 3) || libc_word(addr)) return false;
  if (cmd == FUTEX_WAIT_BITSET && (uint32_t)a[5] != FUTEX_BITSET_MATCH_ANY) return false;
  auto* ts = reinterpret_cast<const struct timespec*>(a[3]);
  int64_t deadline = 0;
  clockid_t clock = CLOCK_MONOTONIC;
  if (ts) {
    if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= NS) return false;  // kernel's error
    if (cmd == FUTEX_WAIT) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      deadline = (int64_t)(now.tv_sec + ts->tv_sec) * NS + now.tv_nsec + ts->tv_nsec;
    } else {
      if (op & FUTEX_CLOCK_REALTIME) clock = CLOCK_REALTIME;
      deadline = (int64_t)ts->tv_sec * NS + ts->tv_nsec;
    }
    if (deadline <= 0) deadline = 1;
  }
  int e = green::futex_park(addr, (uint32_t)a[2], deadline, clock);
  if (e == ENOSYS) return false;
  *out = e ? (errno = e, -1) : 0;
  return true;
}

long futex(const long* a) {
  int op = (int)a[1];
  int cmd = op & FUTEX_CMD_MASK;
  if (!(op & FUTEX_PRIVATE_FLAG)) return real(SYS_futex, a);
  auto* addr = reinterpret_cast<const uint32_t*>(a[0]);
  long r;
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET:
      if (park_wait(a, cmd, op, &r)) return r;
      return real(SYS_futex, a);
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      int count = (int)a[2];
      if (cmd == FUTEX_WAKE_BITSET && (uint32_t)a[5] == 0) break;  // the kernel's EINVAL
      int n = count > 0 ? green::futex_unpark(addr, count) : 0;
      if (n > 0 && n >= count) return n;
      long k[6] = {a[0], a[1], count - n, a[3], a[4], a[5]};
      r = result(green::os::syscall6(SYS_futex, k[0], k[1], k[2], k[3], k[4], k[5]));
      return r < 0 ? (n > 0 ? n : r) : r + n;
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
    case FUTEX_WAKE_OP:
      green::futex_unpark(addr, INT_MAX);
      if (cmd == FUTEX_WAKE_OP) green::futex_unpark(reinterpret_cast<const uint32_t*>(a[4]), INT_MAX);
      break;
    default:
      break;
  }
  return real(SYS_futex, a);
}

}  // namespace

GREEN_EXPORT long syscall(long n, ...) {
  long a[6];
  va_list ap;
  va_start(ap, n);
  for (long& x : a) x = va_arg(ap, long);
  va_end(ap);
  if (n == SYS_futex) return futex(a);
  return real(n, a);
}
