// pthread condition variables. The caller's pthread_cond_t keeps glibc's
// __wrefs bits (bit 0 process-shared, bit 1 CLOCK_MONOTONIC, as glibc's
// pthread_cond_init sets them); the rest is ours, in two protocols.
//
// Private condvars (the parking lot, key: the first word):
//   waiters  (__g_refs[0])  1 if waiters may be queued: set under the bucket
//                           lock as a waiter queues, cleared under it by a
//                           signal that leaves nobody queued
//   mutex    (__g1_start)   the mutex of the latest waiter (broadcast's
//                           wait morphing target)
//   wait:      queue on the key (mutex still held), then release the mutex
//              once off the stack (park_opts.after: on g0), relock when woken
//   signal:    if waiters: unpark one        broadcast: requeue onto the mutex
// A signaller that holds the mutex therefore finds every waiter that
// released it (it queued before releasing): no wake-up is lost, with no
// atomic read-modify-write on the condvar at all. A signaller that does not
// hold it may miss a waiter that had not yet begun to wait, as POSIX allows.
// broadcast moves the waiters onto the mutex's queue while the mutex is
// held (wait morphing): each is woken by an unlock, one at a time, instead
// of all at once to fight over the mutex. A woken waiter never touches the
// condvar again, so pthread_cond_destroy has nothing to wait for.
//
// Process-shared condvars (the kernel futex on seq; waiters may sit in
// other processes, where no parking lot can see them):
//   seq       (first word)    wake-up sequence number
//   nwaiters  (__g_refs[0])   waiters between "about to unlock" and "left";
//                             bit 31: pthread_cond_destroy is waiting
//   wait:      nwaiters++ (mutex held); s = seq; unlock; sleep while seq == s;
//              nwaiters--; relock
//   signal:    if nwaiters: seq++, wake one      broadcast: seq++, wake all
// A signal between a waiter's unlock and its sleep changes seq, so the
// waiter's sleep fails validation and it returns (a permitted spurious
// wake-up) instead of missing the signal. Destroy waits for nwaiters == 0.
#include <errno.h>
#include <limits.h>

#include "internal.h"
#include "mutex.h"
#include "os.h"
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
std::atomic<uint32_t>& waiters(pthread_cond_t* c) { return nwaiters(c); }  // private
std::atomic<pthread_mutex_t*>& mutex(pthread_cond_t* c) {
  return *reinterpret_cast<std::atomic<pthread_mutex_t*>*>(&c->__data.__g1_start);
}
bool shared(const pthread_cond_t* c) { return c->__data.__wrefs & SHARED_BIT; }

// ---- private ----

bool mark_waiting(const void* key, const void*) {  // under the bucket lock
  waiters(static_cast<pthread_cond_t*>(const_cast<void*>(key))).store(1, std::memory_order_relaxed);
  return true;
}

void clear_if_none_left(void* c, int, bool left) {  // under the bucket lock
  if (!left) waiters(static_cast<pthread_cond_t*>(c)).store(0, std::memory_order_relaxed);
}

int wait_private(pthread_cond_t* c, pthread_mutex_t* m, int64_t deadline, clockid_t clock) {
  bool release;
  int r = mutex_unlock_begin(m, &release);
  if (r) return r;
  park_opts o;
  if (release) {
    o.after = mutex_unlock_finish;
    o.after_arg = m;
    o.requeue_to = mutex_requeue_key(m);
    o.requeue_why = {wait_kind::mutex, m};
    mutex(c).store(m, std::memory_order_relaxed);
  }
  // Interruptible (a cancellation point): an interrupted waiter was taken
  // off the queue by interrupt(), not by a signal, so it consumed no
  // wake-up (POSIX: a cancelled waiter must not eat a concurrent signal).
  park_result pr = park(c, mark_waiting, nullptr, deadline, clock, {wait_kind::cond, c}, true, &o);
  // Relocked before any cleanup handler runs.
  r = o.requeued ? mutex_lock_requeued(m) : mutex_lock(m, nullptr, CLOCK_REALTIME);
  if (r) return r;  // EOWNERDEAD/ENOTRECOVERABLE from a robust mutex, as glibc
  if (pr == park_result::interrupted) return EINTR;
  // The parking lot's timer runs on CLOCK_MONOTONIC: a REALTIME deadline
  // may be reached a hair later than the timer fired. Never report early.
  return pr == park_result::timeout && os::now_ns(clock) >= deadline ? ETIMEDOUT : 0;
}

// ---- process-shared ----

// The waiter's last access to the condvar.
void leave(pthread_cond_t* c) {
  if (nwaiters(c).fetch_sub(1, std::memory_order_release) == (DESTROYING | 1))
    wake_word(&nwaiters(c), &nwaiters(c), true, true);
}

int wait_shared(pthread_cond_t* c, pthread_mutex_t* m, int64_t deadline, clockid_t clock) {
  nwaiters(c).fetch_add(1, std::memory_order_seq_cst);
  uint32_t s = seq(c).load(std::memory_order_acquire);
  int r = mutex_unlock(m);
  if (r) {
    leave(c);
    return r;
  }
  int wr = wait_word(&seq(c), &seq(c), s, deadline, clock, true, {wait_kind::cond, c}, true);
  leave(c);
  r = mutex_lock(m, nullptr, CLOCK_REALTIME);  // before any cleanup handler runs
  if (r) return r;
  return wr == ETIMEDOUT || wr == EINTR ? wr : 0;
}

int wake_shared(pthread_cond_t* c, bool all) {
  if ((nwaiters(c).load(std::memory_order_seq_cst) & ~DESTROYING) == 0) return 0;
  seq(c).fetch_add(1, std::memory_order_seq_cst);
  wake_word(&seq(c), &seq(c), all, true);
  return 0;
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
  return shared(c) ? wait_shared(c, m, deadline, clock) : wait_private(c, m, deadline, clock);
}

int cond_signal(pthread_cond_t* c) {
  if (shared(c)) return wake_shared(c, false);
  if (waiters(c).load(std::memory_order_relaxed)) unpark_one_then(c, clear_if_none_left, c);
  return 0;
}

int cond_broadcast(pthread_cond_t* c) {
  if (shared(c)) return wake_shared(c, true);
  if (!waiters(c).load(std::memory_order_relaxed)) return 0;
  // Cleared first: every waiter that set it is queued before we look.
  waiters(c).store(0, std::memory_order_relaxed);
  // m may be stale (its waiters gone): only its address is used here;
  // requeue reads the mutex only once a waiter queued with it vouches.
  if (pthread_mutex_t* m = mutex(c).load(std::memory_order_relaxed))
    requeue(c, &m->__data.__lock, INT_MAX, mutex_mark_contended, nullptr);
  unpark_all(c);  // whoever could not be moved (mutex free, or not ours to park on)
  return 0;
}

// As glibc: wait until every woken waiter has left the condvar, so that the
// caller may free it as soon as this returns. Only process-shared waiters
// touch it after their wake-up.
int cond_destroy(pthread_cond_t* c) {
  if (!shared(c)) return 0;
  uint32_t n = nwaiters(c).fetch_or(DESTROYING, std::memory_order_acq_rel);
  while (n & ~DESTROYING) {
    wait_word(&nwaiters(c), &nwaiters(c), n | DESTROYING, 0, CLOCK_MONOTONIC, true,
              {wait_kind::cond, c});
    n = nwaiters(c).load(std::memory_order_acquire);
  }
  return 0;
}

}  // namespace green
