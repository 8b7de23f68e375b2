// Slow paths of lock and note. Spin a little before sleeping in the kernel:
// runtime critical sections are a few dozen instructions long.
#include "lock.h"

#include <errno.h>

#include "os.h"

namespace green {

void lock::acquire_slow() {
  for (int i = 0; i < 100; i++) {
    uint32_t c = 0;
    if (word_.load(std::memory_order_relaxed) == 0 &&
        word_.compare_exchange_weak(c, 1, std::memory_order_acquire))
      return;
    __builtin_ia32_pause();
  }
  while (word_.exchange(2, std::memory_order_acquire) != 0) os::futex_wait(&word_, 2, nullptr);
}

void lock::release_slow() { os::futex_wake(&word_, 1); }

void note::wakeup() {
  if (key.exchange(1, std::memory_order_release) == 0) os::futex_wake(&key, 1);
}

bool note::sleep(int64_t deadline_ns) {
  while (key.load(std::memory_order_acquire) == 0) {
    int r = os::futex_wait_abs(&key, 0, deadline_ns, CLOCK_MONOTONIC);
    if (r == -ETIMEDOUT) return key.load(std::memory_order_acquire) != 0;
  }
  return true;
}

}  // namespace green
