// syscall(2). Futex waits from a G on an application's word in private
// memory park the G on core's parking lot (core/futex.cpp explains why that
// cannot lose a wake-up); every FUTEX_WAKE first wakes Gs parked on that
// word and then the kernel's waiters (threads libgreen does not run), and
// requeue / wake-op calls wake every parked G of their words (a spurious
// wake-up, which futex users must tolerate) before the real call.
// Calls that never block and act on the calling kernel thread (gettid,
// set_tid_address, robust lists, tgkill, prctl, ...) go straight to the
// kernel: leaving a syscall section may move the G to another M, and a tid
// just returned (or a thread attribute just set) would then belong to
// another thread (stress-ng --pthread checks set_tid_address against
// gettid). Calls with a wrapper of their own run that wrapper
// (syscall_route.cpp); everything else is the real system call in a
// syscall section.
//
// "Private memory": libstdc++ 12 waits without FUTEX_PRIVATE_FLAG
// (std::atomic<T>::wait, counting_semaphore), so the flag alone would park
// nothing. A word in a MAP_PRIVATE (or anonymous private) mapping can be
// woken only from inside this process, exactly like a private futex, so
// such words are parked too. Which mappings are private comes from
// /proc/self/maps, read once per mapping and remembered, shared mappings
// as well as private ones; words in shared mappings (other processes may
// wake them) always take the kernel path.
#include <errno.h>
#include <fcntl.h>
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

// Mappings seen in /proc/self/maps, private or shared (remembered; a
// mapping is assumed not to be replaced by one of the other kind at the
// same address while a futex word in it is in use). Once full, a table
// remembers nothing more: later words cost a /proc read per call.
constexpr int MAX_MAPS = 256;
struct map_table {
  struct {
    std::atomic<uintptr_t> lo, hi;
  } maps[MAX_MAPS];
  std::atomic<int> n{0};

  bool has(uintptr_t a) const {
    int k = n.load(std::memory_order_acquire);
    for (int i = 0; i < k; i++)
      if (a >= maps[i].lo.load(std::memory_order_relaxed) && a < maps[i].hi.load(std::memory_order_relaxed))
        return true;
    return false;
  }
  void add(uintptr_t lo, uintptr_t hi);
};
map_table private_maps, shared_maps;
std::atomic<int> maps_lock{0};

void map_table::add(uintptr_t lo, uintptr_t hi) {
  int expected = 0;
  if (!maps_lock.compare_exchange_strong(expected, 1, std::memory_order_acquire)) return;
  int k = n.load(std::memory_order_relaxed);
  if (k < MAX_MAPS && !has(lo)) {
    maps[k].lo.store(lo, std::memory_order_relaxed);
    maps[k].hi.store(hi, std::memory_order_relaxed);
    n.store(k + 1, std::memory_order_release);
  }
  maps_lock.store(0, std::memory_order_release);
}

uintptr_t hex(const char*& p) {
  uintptr_t v = 0;
  for (;; p++) {
    int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
    if (d < 0) return v;
    v = v * 16 + (uintptr_t)d;
  }
}

// Look addr up in /proc/self/maps (raw calls: no syscall section needed,
// procfs reads do not block); remember its mapping and whether it is private.
bool lookup_private(uintptr_t a) {
  using green::os::syscall6;
  int fd = (int)syscall6(SYS_openat, AT_FDCWD, (long)"/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  size_t have = 0;
  bool found = false, priv = false;
  uintptr_t lo = 0, hi = 0;
  for (;;) {
    long n = syscall6(SYS_read, fd, (long)(buf + have), (long)(sizeof buf - 1 - have));
    if (n <= 0) break;
    have += (size_t)n;
    buf[have] = 0;
    char* line = buf;
    char* nl;
    while ((nl = strchr(line, '\n'))) {
      const char* p = line;
      lo = hex(p);
      p++;
      hi = hex(p);
      p++;  // perms: rwxp or rwxs
      if (a >= lo && a < hi) {
        found = true;
        priv = p[3] == 'p';
        break;
      }
      line = nl + 1;
    }
    if (found) break;
    have = (size_t)(buf + have - line);
    memmove(buf, line, have);
  }
  syscall6(SYS_close, fd);
  if (!found) return false;
  (priv ? private_maps : shared_maps).add(lo, hi);
  return priv;
}

bool private_memory(const void* addr) {
  auto a = reinterpret_cast<uintptr_t>(addr);
  if (private_maps.has(a)) return true;
  if (shared_maps.has(a)) return false;
  return lookup_private(a);
}

// Never blocks; several act on the calling kernel thread.
bool direct(long n) {
  switch (n) {
    case SYS_gettid:
    case SYS_getpid:
    case SYS_getppid:
    case SYS_set_tid_address:
    case SYS_set_robust_list:
    case SYS_get_robust_list:
    case SYS_tgkill:
    case SYS_tkill:
    case SYS_prctl:
    case SYS_getcpu:
    case SYS_sched_getaffinity:
    case SYS_sched_setaffinity:
    case SYS_get_thread_area:
    case SYS_set_thread_area:
    case SYS_sigaltstack:
    case SYS_clock_gettime:
    case SYS_gettimeofday:
      return true;
    default:
      return false;
  }
}

long real(long n, const long* a) {
  if (direct(n)) return green::shim::sys_result(green::os::syscall6(n, a[0], a[1], a[2], a[3], a[4], a[5]));
  green::syscall_enter();
  long r = green::os::syscall6(n, a[0], a[1], a[2], a[3], a[4], a[5]);
  green::syscall_exit();
  return green::shim::sys_result(r);
}

constexpr long NS = 1000000000L;

// A private futex wait on the parking lot; false: make the real call.
bool park_wait(const long* a, int cmd, int op, long* out) {
  auto* addr = reinterpret_cast<const uint32_t*>(a[0]);
  if (!green::on_green() || !addr || (a[0] & 3) || libc_word(addr)) return false;
  if (!(op & FUTEX_PRIVATE_FLAG) && !private_memory(addr)) return false;
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
  int e;
  // SA_RESTART restarts a FUTEX_WAIT in the kernel (with the time left).
  while ((e = green::futex_park(addr, (uint32_t)a[2], deadline, clock)) == EINTR &&
         green::interrupted_restart()) {}
  if (e == ENOSYS) return false;
  *out = e ? (errno = e, -1) : 0;
  return true;
}

long futex(const long* a) {
  int op = (int)a[1];
  int cmd = op & FUTEX_CMD_MASK;
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
      r = green::shim::sys_result(green::os::syscall6(SYS_futex, k[0], k[1], k[2], k[3], k[4], k[5]));
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
  long r;
  if (green::shim::syscall_routed(n, a, &r)) return r;
  return real(n, a);
}
