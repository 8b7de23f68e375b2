// pthread spin locks: an int, 0 free / 1 held. A waiter spins briefly (the
// holder may be running on another P), then yields its G so that a holder
// waiting on the same P gets to run and release the lock.
#include <errno.h>

#include "internal.h"
#include "sync.h"

namespace green {

namespace {
std::atomic<int>& word(pthread_spinlock_t* s) { return *reinterpret_cast<std::atomic<int>*>(const_cast<int*>(s)); }
}  // namespace

int spin_lock(pthread_spinlock_t* s) {
  std::atomic<int>& w = word(s);
  for (;;) {
    if (w.exchange(1, std::memory_order_acquire) == 0) return 0;
    for (int i = 0; i < 100 && w.load(std::memory_order_relaxed); i++) __builtin_ia32_pause();
    if (w.load(std::memory_order_relaxed)) yield();
  }
}

int spin_trylock(pthread_spinlock_t* s) {
  return word(s).exchange(1, std::memory_order_acquire) == 0 ? 0 : EBUSY;
}

int spin_unlock(pthread_spinlock_t* s) {
  word(s).store(0, std::memory_order_release);
  return 0;
}

}  // namespace green
