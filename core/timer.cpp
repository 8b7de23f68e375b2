// Timers: one binary min-heap of deadlines (CLOCK_MONOTONIC ns) under
// timer_mu. Timed waits (join, lock, cond) put a timer in their waiter
// record; sched.cpp decides which M sleeps until the earliest one.
//
// Timer states: IDLE -> PENDING (in heap) -> FIRING (popped, fire running)
// -> DONE. timer_cancel of a PENDING timer removes it; of a FIRING one waits
// for DONE, because the timer lives in its owner's stack frame.
#include <stdlib.h>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

enum : int { IDLE, PENDING, FIRING, DONE };

lock timer_mu;
timer** heap = nullptr;
int heap_len = 0;
int heap_cap = 0;
std::atomic<int> npending{0};

void place(int i, timer* t) {
  heap[i] = t;
  t->index = i;
}

void sift_up(int i) {
  timer* t = heap[i];
  while (i > 0) {
    int parent = (i - 1) / 2;
    if (heap[parent]->when <= t->when) break;
    place(i, heap[parent]);
    i = parent;
  }
  place(i, t);
}

void sift_down(int i) {
  timer* t = heap[i];
  for (;;) {
    int c = 2 * i + 1;
    if (c >= heap_len) break;
    if (c + 1 < heap_len && heap[c + 1]->when < heap[c]->when) c++;
    if (t->when <= heap[c]->when) break;
    place(i, heap[c]);
    i = c;
  }
  place(i, t);
}

void remove_at(int i) {
  heap_len--;
  npending.fetch_sub(1, std::memory_order_relaxed);
  heap[i]->index = -1;
  if (i == heap_len) return;
  timer* moved = heap[heap_len];
  place(i, moved);
  sift_down(i);
  sift_up(moved->index);
}

}  // namespace

void timer_add(timer* t) {
  bool earliest;
  {
    lock_guard l(timer_mu);
    if (heap_len == heap_cap) {
      int cap = heap_cap ? heap_cap * 2 : 64;
      auto* h = static_cast<timer**>(realloc(heap, sizeof(timer*) * (size_t)cap));
      GREEN_CHECK(h, "out of memory for the timer heap");
      heap = h;
      heap_cap = cap;
    }
    t->state.store(PENDING, std::memory_order_relaxed);
    place(heap_len++, t);
    npending.fetch_add(1, std::memory_order_relaxed);
    sift_up(heap_len - 1);
    earliest = heap[0] == t;
  }
  if (earliest) timers_changed(t->when);
}

void timer_cancel(timer* t) {
  {
    lock_guard l(timer_mu);
    int s = t->state.load(std::memory_order_acquire);
    if (s == PENDING) {
      remove_at(t->index);
      t->state.store(IDLE, std::memory_order_relaxed);
      return;
    }
  }
  while (t->state.load(std::memory_order_acquire) == FIRING) __builtin_ia32_pause();
}

void timers_fork(fork_phase ph) {
  if (ph == fork_phase::prepare) return timer_mu.acquire();
  if (ph == fork_phase::child) {  // every timer belonged to a G that is gone
    for (int i = 0; i < heap_len; i++) heap[i]->index = -1;
    heap_len = 0;
    npending.store(0, std::memory_order_relaxed);
  }
  timer_mu.release();
}

bool timers_pending() { return npending.load(std::memory_order_relaxed) > 0; }

int64_t timers_next() {
  lock_guard l(timer_mu);
  return heap_len ? heap[0]->when : INT64_MAX;
}

void timers_run(int64_t now) {
  for (;;) {
    timer* t;
    {
      lock_guard l(timer_mu);
      if (heap_len == 0 || heap[0]->when > now) return;
      t = heap[0];
      remove_at(0);
      t->state.store(FIRING, std::memory_order_relaxed);
    }
    t->fire(t);
    t->state.store(DONE, std::memory_order_release);
  }
}

}  // namespace green
