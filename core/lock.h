// lock: the runtime's own short-hold mutex (futex word, 0 free / 1 held /
// 2 held with sleepers). It blocks the M, never parks a G: hold it only for
// a few instructions and never across a context switch, except where the
// parking protocol hands it to g0 to release (see sched.cpp, park).
#pragma once
#include <atomic>
#include <stdint.h>

namespace green {

class lock {
 public:
  void acquire() {
    uint32_t c = 0;
    if (__builtin_expect(word_.compare_exchange_strong(c, 1, std::memory_order_acquire), 1))
      return;
    acquire_slow();
  }
  void release() {
    if (__builtin_expect(word_.exchange(0, std::memory_order_release) == 2, 0)) release_slow();
  }
  bool held() const { return word_.load(std::memory_order_relaxed) != 0; }

 private:
  void acquire_slow();
  void release_slow();
  std::atomic<uint32_t> word_{0};
};

class lock_guard {
 public:
  explicit lock_guard(lock& l) : l_(l) { l_.acquire(); }
  ~lock_guard() { l_.release(); }
  lock_guard(const lock_guard&) = delete;
  lock_guard& operator=(const lock_guard&) = delete;

 private:
  lock& l_;
};

// note: one-shot sleep/wakeup for an M (Go's note). wakeup before sleep
// makes sleep return at once; clear() re-arms it.
struct note {
  std::atomic<uint32_t> key{0};
  void clear() { key.store(0, std::memory_order_relaxed); }
  void wakeup();
  // Returns false on timeout (deadline_ns > 0, CLOCK_MONOTONIC).
  bool sleep(int64_t deadline_ns = 0);
};

}  // namespace green
