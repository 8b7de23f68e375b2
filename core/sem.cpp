// Semaphores, in glibc's own layout and protocol (so that a process using
// glibc's sem_* on a shared or named semaphore interoperates with one
// running under libgreen):
//   data     64 bits: value in the low half, waiters in the high half
//   private  glibc's futex flag word: 0 for sem_init(pshared = 0); 128
//            (shared) for sem_init(pshared != 0) and every sem_open semaphore
// wait: take a token with a CAS when the value is positive; otherwise
// register as a waiter (high half + 1) and sleep while the value (the low
// word) is 0, then take a token and unregister in one CAS.
// post: value + 1 with a CAS (EOVERFLOW at SEM_VALUE_MAX); if any waiter is
// registered, wake one. A registered waiter's sleep validates "value == 0",
// so a post between its check and its sleep is never missed.
// Private semaphores park Gs on the parking lot, shared ones sleep in the
// kernel inside a syscall section (wait.h). A wait is interruptible (a
// cancellation point): EINTR after unregistering, as for a timeout.
#include <errno.h>
#include <limits.h>
#include <semaphore.h>

#include <new>

#include "internal.h"
#include "sync.h"
#include "wait.h"

namespace green {

namespace {

constexpr uint64_t VALUE_MASK = 0xffffffffu;
constexpr uint64_t ONE_WAITER = 1ull << 32;
constexpr int SHARED_VALUE = 128;  // glibc's FUTEX_SHARED (0 is FUTEX_PRIVATE)

struct nsem {
  std::atomic<uint64_t> data;
  int priv;
  int pad;
};
static_assert(sizeof(nsem) <= sizeof(sem_t));

nsem* get(sem_t* s) { return reinterpret_cast<nsem*>(s); }
std::atomic<uint32_t>& value_word(nsem* s) {  // the low half (little endian)
  return *reinterpret_cast<std::atomic<uint32_t>*>(reinterpret_cast<char*>(s));
}
bool shared(const nsem* s) { return s->priv != 0; }

}  // namespace

int sem_init(sem_t* ps, bool pshared, unsigned value) {
  if (value > SEM_VALUE_MAX) return EINVAL;
  nsem* s = new (ps) nsem{};
  s->data.store(value, std::memory_order_relaxed);
  s->priv = pshared ? SHARED_VALUE : 0;
  return 0;
}

int sem_wait(sem_t* ps, const struct timespec* abstime, clockid_t clock, bool try_only) {
  nsem* s = get(ps);
  int64_t deadline = 0;
  if (abstime) {  // as glibc: checked before trying
    int e = deadline_from(abstime, &deadline);
    if (e) return e;
  }
  uint64_t d = s->data.load(std::memory_order_relaxed);
  while (d & VALUE_MASK)
    if (s->data.compare_exchange_weak(d, d - 1, std::memory_order_acquire)) return 0;
  if (try_only) return EAGAIN;
  d = s->data.fetch_add(ONE_WAITER, std::memory_order_seq_cst) + ONE_WAITER;
  for (;;) {
    if (d & VALUE_MASK) {
      if (s->data.compare_exchange_weak(d, d - 1 - ONE_WAITER, std::memory_order_acquire)) return 0;
      continue;
    }
    int e = wait_word(&value_word(s), &value_word(s), 0, deadline, clock, shared(s),
                      {wait_kind::sem, ps}, true);
    if (e) {
      s->data.fetch_sub(ONE_WAITER, std::memory_order_relaxed);
      return e;
    }
    d = s->data.load(std::memory_order_relaxed);
  }
}

int sem_post(sem_t* ps) {
  nsem* s = get(ps);
  uint64_t d = s->data.load(std::memory_order_relaxed);
  do {
    if ((d & VALUE_MASK) == SEM_VALUE_MAX) return EOVERFLOW;
  } while (!s->data.compare_exchange_weak(d, d + 1, std::memory_order_seq_cst));
  if (d >> 32) wake_word(&value_word(s), &value_word(s), false, shared(s));
  return 0;
}

int sem_getvalue(sem_t* ps, int* value) {
  *value = (int)(get(ps)->data.load(std::memory_order_relaxed) & VALUE_MASK);
  return 0;
}

}  // namespace green
