// wait_word / wake_word (wait.h) and deadline_from (sync.h).
#include "wait.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>

#include "internal.h"
#include "os.h"
#include "sync.h"

namespace green {

namespace {

struct expect {
  const std::atomic<uint32_t>* word;
  uint32_t val;
};

bool word_unchanged(const void*, const void* ctx) {
  auto* e = static_cast<const expect*>(ctx);
  return e->word->load(std::memory_order_relaxed) == e->val;
}

int kernel_wait(const std::atomic<uint32_t>* word, uint32_t val, int64_t deadline_ns,
                clockid_t clock, bool interruptible) {
  struct timespec ts, *tp = nullptr;
  if (deadline_ns > 0) {
    ts = {(time_t)(deadline_ns / 1000000000), (long)(deadline_ns % 1000000000)};
    tp = &ts;
  }
  int op = FUTEX_WAIT_BITSET | (clock == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0);
  long r;
  if (interruptible) {
    r = syscall_intr(SYS_futex, (long)word, op, val, (long)tp, 0, FUTEX_BITSET_MATCH_ANY);
  } else {
    syscall_enter();
    r = os::syscall6(SYS_futex, (long)word, op, val, (long)tp, 0, FUTEX_BITSET_MATCH_ANY);
    syscall_exit();
  }
  return r == -ETIMEDOUT ? ETIMEDOUT : r == -EINTR ? EINTR : 0;
}

}  // namespace

int owner_self() {
  if (G* g = getg()) return g->owner_id;
  static __thread int tid;
  if (!tid) tid = os::gettid();
  return tid;
}

uint64_t owner_pshared(int id) {
  return (uint64_t)(uint32_t)os::syscall6(SYS_getpid) << 32 | (uint32_t)id;
}

int deadline_from(const struct timespec* abstime, int64_t* out) {
  if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000) return EINVAL;
  *out = abstime->tv_sec < 0 ? 1 : (int64_t)abstime->tv_sec * 1000000000 + abstime->tv_nsec;
  if (*out <= 0) *out = 1;
  return 0;
}

int wait_word(const void* key, const std::atomic<uint32_t>* word, uint32_t val,
              int64_t deadline_ns, clockid_t clock, bool shared, wait_on why,
              bool interruptible, bool front,
              park_validate_fn validate, const void* validate_ctx) {
  if (shared) {
    int r = kernel_wait(word, val, deadline_ns, clock, interruptible);
    if (r == ETIMEDOUT && os::now_ns(clock) < deadline_ns) return 0;  // caller retries
    return r;
  }
  expect e{word, val};
  park_opts o;
  o.front = front;
  park_result pr =
      validate ? park(key, validate, validate_ctx, deadline_ns, clock, why, interruptible, &o)
               : park(key, word_unchanged, &e, deadline_ns, clock, why, interruptible, &o);
  if (pr == park_result::interrupted) return EINTR;
  if (pr != park_result::timeout) return 0;
  // The parking lot's timer runs on CLOCK_MONOTONIC: a REALTIME deadline
  // may be reached a hair later than the timer fired. Never report early.
  return os::now_ns(clock) >= deadline_ns ? ETIMEDOUT : 0;
}

void wake_word(const void* key, const void* word, bool all, bool shared) {
  if (shared)
    os::syscall6(SYS_futex, (long)word, FUTEX_WAKE, all ? INT_MAX : 1);
  else if (all)
    unpark_all(key);
  else
    unpark_one(key);
}

}  // namespace green
