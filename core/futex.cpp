// Raw private futex words on the parking lot, for syscall(SYS_futex, ...)
// from a G (libstdc++'s std::atomic<T>::wait/notify, std::counting_semaphore,
// std::future's state word all reach the kernel that way).
//
// Why parking a G here cannot lose a wake-up: a G parked on a word can be
// woken only by futex_unpark on that word, which the shim calls for every
// FUTEX_WAKE (and, conservatively, every REQUEUE/WAKE_OP) that goes through
// syscall(). A waker that issues the raw `syscall` instruction itself would
// not find the G. Such wakers are the C library and the runtime on their own
// words (thread ids in TCBs, internal locks), so those words are never
// parked here: the TCB arena is refused below, and the shim refuses the C
// library's and the loader's own data; the caller then makes the real call
// in a syscall section, which is always correct.
//
// The park is interruptible: a signal handler for the G runs at once and
// the wait returns EINTR; the shim restarts it under SA_RESTART, as the
// kernel restarts FUTEX_WAIT.
#include <errno.h>

#include "internal.h"
#include "sync.h"

namespace green {

namespace {

bool word_is(const void* addr, const void* ctx) {
  return reinterpret_cast<const std::atomic<uint32_t>*>(addr)->load(std::memory_order_relaxed) ==
         *static_cast<const uint32_t*>(ctx);
}

}  // namespace

int futex_park(const uint32_t* addr, uint32_t val, int64_t deadline_ns, clockid_t clock) {
  G* g = getg_switchable();
  if (!sched.started.load(std::memory_order_relaxed) || !g || g_in_arena(addr)) return ENOSYS;
  // A signal handler for the G ends the wait (EINTR, as in the kernel). A
  // due cancellation does not: syscall() is no cancellation point, and an
  // interruptible park would return at once for as long as it is pending.
  bool intr = !(g->intr.load(std::memory_order_acquire) & INTR_CANCEL);
  switch (park(addr, word_is, &val, deadline_ns, clock, {wait_kind::futex, addr}, intr)) {
    case park_result::woken: return 0;
    case park_result::invalid: return EAGAIN;
    case park_result::timeout: return ETIMEDOUT;
    case park_result::interrupted: return EINTR;
  }
  return 0;
}

int futex_unpark(const uint32_t* addr, int count) {
  if (count <= 0) return 0;
  if (count == INT32_MAX) return unpark_all(addr);
  int n = 0;
  while (n < count && unpark_one(addr)) n++;
  return n;
}

}  // namespace green
