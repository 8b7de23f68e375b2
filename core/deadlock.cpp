// Deadlock detection (GREEN_DEADLOCK), Go's "all goroutines are asleep".
//
// Each M that goes idle asks, right before it sleeps (stopm), whether the
// program can ever make progress again. It cannot when all of this holds:
//   1. every P and every M is idle, nothing is queued, no timer is pending
//     and no G waits for fd readiness (read together under sched.mu). So no
//     G runs, none is in a system call (its M would not be idle), none is
//     blocked in the kernel outside a syscall section (its M would hold its
//     P), no sleep or timed wait will end, and the poller wakes nobody;
//   2. every live G is parked, none in a sleep or on an fd;
//   3. no OS thread exists that libgreen did not make (made before start,
//     or by a library with clone or the C library's own pthread_create):
//     it could wake a G. The kernel's count (/proc/self/stat) must equal
//     runtime_threads(); a larger one may be an M that has just left the
//     scheduler, so that case is looked at again a few times;
//   4. the application has no handler installed for a signal that can come
//     from outside (sem_post is async-signal-safe: a handler may wake a G):
//     none installed through sigaction (whose shim gives the kernel its own
//     wrapper and tells us, app_signal_handler), none in the kernel that is
//     not libgreen's. Fault signals (SEGV, BUS, ILL, FPE, TRAP, SYS) and the
//     C library's own handlers do not count.
// The M then sleeps GRACE_NS on its own note (woken: there is work after
// all), looks again, and reports only if no G has run meanwhile
// (stats_switches): a thread dump (dump.cpp), then, with GREEN_DEADLOCK=
// report (the default), it goes back to sleep, so the program hangs as it
// would natively; with abort it calls abort(). One report per deadlock:
// nothing is examined again until some G has run.
//
// Cost when not deadlocked: a few relaxed loads per M going idle; the full
// examination (a walk over every G, one system call per signal) only when
// those pass, and once per change of stats_switches().
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

constexpr int64_t GRACE_NS = 100 * 1000 * 1000;
constexpr int TRIES = 10;

std::atomic<bool> checking{false};           // one examining M at a time
std::atomic<uint64_t> app_caught{0};         // signals with a handler of the program's (bit sig-1)
std::atomic<uint64_t> settled{~0ull};        // stats_switches() when last settled

enum class verdict { live, dead, unsure };

bool sched_quiet() {
  lock_guard l(sched.mu);
  // Every P in use (spares lent included: a lent spare means a P is stuck
  // with its M in the kernel) is idle.
  if (sched.npidle.load(std::memory_order_relaxed) != sched.nactive.load(std::memory_order_relaxed))
    return false;
  if (sched.nmidle != sched.mcount.load(std::memory_order_relaxed)) return false;
  if (sched.runq_size.load(std::memory_order_relaxed) != 0) return false;
  for (int i = 0; i < sched.nallp; i++)
    if (!runq_empty(&sched.allp[i])) return false;
  return !timers_pending() && netpoll_waiting() == 0;
}

struct census {
  long parked = 0;
};

bool count_parked(G* g, void* ctx) {
  switch (g->status.load(std::memory_order_acquire)) {
    case gstatus::dead:  // ended, not joined yet
      return true;
    case gstatus::waiting:
      switch (g->wait.load(std::memory_order_relaxed)) {
        case wait_kind::sleep:
        case wait_kind::fd_read:
        case wait_kind::fd_write:
          return false;
        default:
          break;
      }
      static_cast<census*>(ctx)->parked++;
      return true;
    default:
      return false;  // runnable, running or in a system call
  }
}

bool fault_signal(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP ||
         sig == SIGSYS;
}

bool ours(void* handler) {
  Dl_info self, h;
  return dladdr(reinterpret_cast<void*>(&deadlock_check), &self) &&
         dladdr(handler, &h) && h.dli_fbase == self.dli_fbase;
}

// A handler the program installed through sigaction (the kernel then holds
// the shim's wrapper: app_caught says), or past it (a raw system call, a
// library set up before libgreen: the kernel holds a function not ours).
bool woken_by_signal_maybe() {
  uint64_t caught = app_caught.load(std::memory_order_relaxed);
  for (int sig = 1; sig <= 64; sig++) {
    // 32 and 33 are the C library's own (cancellation, setxid).
    if (sig == SIGKILL || sig == SIGSTOP || sig == 32 || sig == 33 || fault_signal(sig)) continue;
    if (caught & (1ull << (sig - 1))) return true;
    void* h = os::signal_handler(sig);
    if (h == nullptr || h == reinterpret_cast<void*>(SIG_IGN)) continue;
    if (!ours(h)) return true;
  }
  return false;
}

// num_threads, field 20 of /proc/self/stat; -1 if unreadable.
int kernel_threads() {
  char buf[1024];
  if (proc_read("/proc/self/stat", buf, sizeof buf) <= 0) return -1;
  char* p = strrchr(buf, ')');  // the command name may hold spaces and parentheses
  if (!p) return -1;
  for (int field = 3; field <= 20 && p; field++) p = strchr(p + 1, ' ');  // to field 20's space
  return p ? atoi(p + 1) : -1;
}

verdict examine() {
  if (!sched_quiet()) return verdict::live;
  census c;
  if (!for_each_g(count_parked, &c) || c.parked == 0) return verdict::live;
  if (woken_by_signal_maybe()) return verdict::live;
  int k = kernel_threads();
  if (k < 0 || k > runtime_threads()) return verdict::unsure;
  return verdict::dead;
}

void report() {
  bool abort_after = sched.cfg.deadlock == deadlock_action::abort_process;
  dump_threads(2,
               "deadlock: every thread is blocked, waiting for another one; no thread runs "
               "and no timer, I/O or system call is pending",
               true);
  if (abort_after) {
    diag("libgreen: aborting (GREEN_DEADLOCK=abort)\n");
    abort();
  }
  diag("libgreen: the program keeps waiting, as it would without libgreen "
       "(GREEN_DEADLOCK=abort makes it abort instead)\n");
}

}  // namespace

void app_signal_handler(int sig, bool caught) {
  if (sig < 1 || sig > 64) return;
  if (caught)
    app_caught.fetch_or(1ull << (sig - 1), std::memory_order_relaxed);
  else
    app_caught.fetch_and(~(1ull << (sig - 1)), std::memory_order_relaxed);
}

void deadlock_check(M* m) {
  if (sched.cfg.deadlock == deadlock_action::off) return;
  if (sched.npidle.load(std::memory_order_relaxed) != sched.nactive.load(std::memory_order_relaxed) ||
      sched.runq_size.load(std::memory_order_relaxed) != 0 || timers_pending() ||
      netpoll_waiting() != 0 || stats.live_gs.load(std::memory_order_relaxed) <= 0)
    return;
  uint64_t epoch = stats_switches();
  if (epoch == settled.load(std::memory_order_relaxed)) return;
  if (checking.exchange(true, std::memory_order_acquire)) return;
  for (int i = 0; i < TRIES; i++) {
    verdict v = examine();
    if (v == verdict::live) {
      settled.store(epoch, std::memory_order_relaxed);
      break;
    }
    // Woken: work arrived for this M (its note stays set, so stopm's own
    // sleep returns at once and takes it).
    if (m->park.sleep(nanotime() + GRACE_NS)) break;
    if (stats_switches() != epoch) break;
    if (v == verdict::dead && examine() == verdict::dead) {
      settled.store(epoch, std::memory_order_relaxed);
      report();
      break;
    }
    if (i == TRIES - 1) settled.store(epoch, std::memory_order_relaxed);  // threads we do not know
  }
  checking.store(false, std::memory_order_release);
}

}  // namespace green
