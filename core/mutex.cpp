// pthread mutexes on the parking lot. State lives in the caller's
// pthread_mutex_t, in glibc's own fields, so every static initialiser works:
//   __lock   0 unlocked, 1 locked, 2 locked and maybe contended
//   __owner  owner identity (G.owner_id, or the kernel tid outside a G)
//   __count  recursion depth beyond the first lock (RECURSIVE)
//   __kind   type as set by glibc's pthread_mutex_init / initialisers
// Robust, process-shared and priority-protocol mutexes stay with glibc for
// now (mutex_is_native): their state must be visible to the kernel or to
// other processes, which a parking lot in one process cannot provide.
//
// Invariant: a waiter sets __lock to 2 before parking, and parks only if
// __lock is still 2 under the bucket lock; an unlocker that saw 2 unparks
// one waiter after storing 0. Hence no wake-up is lost.
#include <errno.h>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

constexpr int KIND_MASK = 3;  // PTHREAD_MUTEX_KIND_MASK_NP
constexpr int NATIVE_BITS = 16 | 32 | 64 | 128;  // ROBUST, PI, PP, PSHARED

__thread int tls_os_tid;

int self_id() {
  if (G* g = getg()) return g->owner_id;
  if (!tls_os_tid) tls_os_tid = os::gettid();
  return tls_os_tid;
}

std::atomic<int>& word(pthread_mutex_t* m) {
  return *reinterpret_cast<std::atomic<int>*>(&m->__data.__lock);
}

bool still_contended(const void* addr, const void*) {
  return static_cast<const std::atomic<int>*>(addr)->load(std::memory_order_relaxed) == 2;
}

int lock_slow(pthread_mutex_t* m, int64_t deadline, clockid_t clock) {
  std::atomic<int>& w = word(m);
  for (int i = 0; i < 64; i++) {  // brief spin: the holder may be running
    int c = 0;
    if (w.load(std::memory_order_relaxed) == 0 &&
        w.compare_exchange_weak(c, 1, std::memory_order_acquire))
      return 0;
    __builtin_ia32_pause();
  }
  while (w.exchange(2, std::memory_order_acquire) != 0) {
    if (park(&w, still_contended, nullptr, deadline, clock) == park_result::timeout) {
      int c = 0;  // a last chance, as glibc: the lock may be free right now
      if (w.compare_exchange_strong(c, 2, std::memory_order_acquire)) return 0;
      return ETIMEDOUT;
    }
  }
  return 0;
}

}  // namespace

bool mutex_is_native(const pthread_mutex_t* m) { return m->__data.__kind & NATIVE_BITS; }

int mutex_lock(pthread_mutex_t* m, const struct timespec* abstime, clockid_t clock) {
  int kind = m->__data.__kind & KIND_MASK;
  if (kind == PTHREAD_MUTEX_NORMAL && !abstime) {
    int c = 0;
    if (__builtin_expect(word(m).compare_exchange_strong(c, 1, std::memory_order_acquire), 1)) {
      m->__data.__owner = self_id();
      return 0;
    }
  }
  int id = self_id();
  if (kind == PTHREAD_MUTEX_RECURSIVE && m->__data.__owner == id) {
    if (m->__data.__count + 1 == 0) return EAGAIN;
    m->__data.__count++;
    return 0;
  }
  if (kind == PTHREAD_MUTEX_ERRORCHECK && m->__data.__owner == id) return EDEADLK;
  int64_t deadline = 0;
  if (abstime) {
    if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000) return EINVAL;
    deadline = abstime->tv_sec < 0 ? 1 : (int64_t)abstime->tv_sec * 1000000000 + abstime->tv_nsec;
  }
  int c = 0;
  if (!word(m).compare_exchange_strong(c, 1, std::memory_order_acquire)) {
    int r = lock_slow(m, deadline, clock);
    if (r) return r;
  }
  m->__data.__owner = id;
  m->__data.__count = 0;
  return 0;
}

int mutex_trylock(pthread_mutex_t* m) {
  int kind = m->__data.__kind & KIND_MASK;
  int id = self_id();
  if (kind == PTHREAD_MUTEX_RECURSIVE && m->__data.__owner == id) {
    if (m->__data.__count + 1 == 0) return EAGAIN;
    m->__data.__count++;
    return 0;
  }
  int c = 0;
  if (!word(m).compare_exchange_strong(c, 1, std::memory_order_acquire)) return EBUSY;
  m->__data.__owner = id;
  m->__data.__count = 0;
  return 0;
}

int mutex_unlock(pthread_mutex_t* m) {
  int kind = m->__data.__kind & KIND_MASK;
  if (kind != PTHREAD_MUTEX_NORMAL && kind != PTHREAD_MUTEX_ADAPTIVE_NP) {
    if (m->__data.__owner != self_id() || word(m).load(std::memory_order_relaxed) == 0)
      return EPERM;
    if (kind == PTHREAD_MUTEX_RECURSIVE && m->__data.__count > 0) {
      m->__data.__count--;
      return 0;
    }
  }
  m->__data.__owner = 0;
  if (word(m).exchange(0, std::memory_order_release) == 2) unpark_one(&word(m));
  return 0;
}

}  // namespace green
