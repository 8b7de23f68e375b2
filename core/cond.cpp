// pthread condition variables on the parking lot. The caller's
// pthread_cond_t keeps glibc's __wrefs bits (bit 0 process-shared, bit 1
// CLOCK_MONOTONIC, as glibc's pthread_cond_init sets them) and we use its
// first 32-bit word as a wake-up sequence number:
//   wait:   s = seq; unlock; park on seq while seq == s; relock
//   signal: seq++; unpark one      broadcast: seq++; unpark all
// A signal between a waiter's unlock and its park changes seq, so the
// waiter's park fails validation and it returns (a permitted spurious
// wake-up) instead of missing the signal.
#include <errno.h>

#include "internal.h"

namespace green {

namespace {

constexpr unsigned SHARED_BIT = 1;
constexpr unsigned MONOTONIC_BIT = 2;

std::atomic<uint32_t>& seq(pthread_cond_t* c) {
  return *reinterpret_cast<std::atomic<uint32_t>*>(c);
}

bool seq_unchanged(const void* addr, const void* ctx) {
  return static_cast<const std::atomic<uint32_t>*>(addr)->load(std::memory_order_relaxed) ==
         *static_cast<const uint32_t*>(ctx);
}

}  // namespace

bool cond_is_native(const pthread_cond_t* c) { return c->__data.__wrefs & SHARED_BIT; }

int cond_wait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime, bool use_clock,
              clockid_t clock) {
  int64_t deadline = 0;
  if (abstime) {
    if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000) return EINVAL;
    deadline = abstime->tv_sec < 0 ? 1 : (int64_t)abstime->tv_sec * 1000000000 + abstime->tv_nsec;
  }
  if (!use_clock) clock = (c->__data.__wrefs & MONOTONIC_BIT) ? CLOCK_MONOTONIC : CLOCK_REALTIME;
  uint32_t s = seq(c).load(std::memory_order_acquire);
  int r = mutex_unlock(m);
  if (r) return r;
  park_result pr = park(&seq(c), seq_unchanged, &s, deadline, clock);
  r = mutex_lock(m, nullptr, CLOCK_REALTIME);
  if (r) return r;
  return pr == park_result::timeout ? ETIMEDOUT : 0;
}

int cond_signal(pthread_cond_t* c) {
  seq(c).fetch_add(1, std::memory_order_release);
  unpark_one(&seq(c));
  return 0;
}

int cond_broadcast(pthread_cond_t* c) {
  seq(c).fetch_add(1, std::memory_order_release);
  unpark_all(&seq(c));
  return 0;
}

}  // namespace green
