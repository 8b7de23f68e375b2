// pthread_once on the parking lot. The pthread_once_t word is
// 0 (not run), 1 (running), 2 (done); latecomers park while it is 1 and are
// woken when the runner publishes 2.
#include "internal.h"

namespace green {

namespace {

enum : int { NOT_RUN, RUNNING, DONE };

bool still_running(const void* addr, const void*) {
  return static_cast<const std::atomic<int>*>(addr)->load(std::memory_order_acquire) == RUNNING;
}

}  // namespace

int once(pthread_once_t* o, void (*init)()) {
  auto& w = *reinterpret_cast<std::atomic<int>*>(o);
  for (;;) {
    int s = w.load(std::memory_order_acquire);
    if (s == DONE) return 0;
    if (s == NOT_RUN && w.compare_exchange_strong(s, RUNNING, std::memory_order_acq_rel)) {
      init();
      w.store(DONE, std::memory_order_release);
      unpark_all(&w);
      return 0;
    }
    if (s == RUNNING) park(&w, still_running, nullptr, 0, CLOCK_MONOTONIC, {wait_kind::once, o});
  }
}

}  // namespace green
