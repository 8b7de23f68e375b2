// pthread condition variables. The caller's pthread_cond_t keeps glibc's
// __wrefs bits (bit 0 process-shared, bit 1 CLOCK_MONOTONIC, as glibc's
// pthread_cond_init sets them); we use two more 32-bit words of it:
//   seq       (first word)    wake-up sequence number
//   nwaiters  (__g_refs[0])   waiters between "about to unlock" and "left";
//                             bit 31: pthread_cond_destroy is waiting
// Protocol:
//   wait:      nwaiters++ (mutex held); s = seq; unlock; sleep while seq == s;
//              nwaiters--; relock
//   signal:    if nwaiters: seq++, wake one      broadcast: seq++, wake all
// A signal between a waiter's unlock and its sleep changes seq, so the
// waiter's sleep fails validation and it returns (a permitted spurious
// wake-up) instead of missing the signal. A signaller that holds the mutex
// sees every waiter's increment (made under the mutex); one that does not
// hold it may skip waiters that had not yet begun to wait, as POSIX allows.
// Private condvars park Gs on the parking lot (key: seq); process-shared ones
// sleep in the kernel on seq (wait.h).
#include <errno.h>

#include "internal.h"
#include "sync.h"
#include "wait.h"

namespace green {

namespace {

constexpr unsigned SHARED_BIT = 1;
constexpr unsigned MONOTONIC_BIT = 2;
constexpr uint32_t DESTROYING = 1u << 31;

std::atomic<uint32_t>& seq(pthread_cond_t* c) {
  return *reinterpret_cast<std::atomic<uint32_t>*>(c);
}
std::atomic<uint32_t>& nwaiters(pthread_cond_t* c) {
  return *reinterpret_cast<std::atomic<uint32_t>*>(&c->__data.__g_refs[0]);
}
bool shared(const pthread_cond_t* c) { return c->__data.__wrefs & SHARED_BIT; }

// The waiter's last access to the condvar.
void leave(pthread_cond_t* c) {
  bool sh = shared(c);
  if (nwaiters(c).fetch_sub(1, std::memory_order_release) == (DESTROYING | 1))
    wake_word(&nwaiters(c), &nwaiters(c), true, sh);
}

}  // namespace

int cond_wait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime, bool use_clock,
              clockid_t clock) {
  int64_t deadline = 0;
  if (abstime) {
    int r = deadline_from(abstime, &deadline);
    if (r) return r;
  }
  if (!use_clock) clock = (c->__data.__wrefs & MONOTONIC_BIT) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
  bool sh = shared(c);
  nwaiters(c).fetch_add(1, std::memory_order_seq_cst);
  uint32_t s = seq(c).load(std::memory_order_acquire);
  int r = mutex_unlock(m);
  if (r) {
    leave(c);
    return r;
  }
  // Interruptible (a cancellation point): an interrupted waiter was taken
  // off the queue by interrupt(), not by a signal, so it consumed no
  // wake-up (POSIX: a cancelled waiter must not eat a concurrent signal).
  int wr = wait_word(&seq(c), &seq(c), s, deadline, clock, sh, {wait_kind::cond, c}, true);
  leave(c);
  r = mutex_lock(m, nullptr, CLOCK_REALTIME);  // before any cleanup handler runs
  if (r) return r;  // EOWNERDEAD/ENOTRECOVERABLE from a robust mutex, as glibc
  return wr == ETIMEDOUT || wr == EINTR ? wr : 0;
}

int cond_signal(pthread_cond_t* c) {
  if ((nwaiters(c).load(std::memory_order_seq_cst) & ~DESTROYING) == 0) return 0;
  seq(c).fetch_add(1, std::memory_order_seq_cst);
  wake_word(&seq(c), &seq(c), false, shared(c));
  return 0;
}

int cond_broadcast(pthread_cond_t* c) {
  if ((nwaiters(c).load(std::memory_order_seq_cst) & ~DESTROYING) == 0) return 0;
  seq(c).fetch_add(1, std::memory_order_seq_cst);
  wake_word(&seq(c), &seq(c), true, shared(c));
  return 0;
}

// As glibc: wait until every woken waiter has left the condvar, so that the
// caller may free it as soon as this returns.
int cond_destroy(pthread_cond_t* c) {
  bool sh = shared(c);
  uint32_t n = nwaiters(c).fetch_or(DESTROYING, std::memory_order_acq_rel);
  while (n & ~DESTROYING) {
    wait_word(&nwaiters(c), &nwaiters(c), n | DESTROYING, 0, CLOCK_MONOTONIC, sh, {wait_kind::cond, c});
    n = nwaiters(c).load(std::memory_order_acquire);
  }
  return 0;
}

}  // namespace green
