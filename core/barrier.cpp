// pthread barriers. pthread_barrier_t (32 bytes, no static initialiser) holds
//   state    64 bits: arrivals in the low half, generation in the high half
//   count    threads per round
//   shared   1: process-shared
//   pending  threads woken but not yet out of the barrier; bit 31: destroy
//            is waiting for them
// The count-th arrival of a generation swaps state to (generation + 1, 0
// arrivals) in one CAS, so arrivals beyond the count belong to the next
// round; it alone returns PTHREAD_BARRIER_SERIAL_THREAD and wakes the
// others, which sleep on the generation word (the high half) while it is
// unchanged. pthread_barrier_destroy waits until the last of them is out,
// as glibc's does, so the memory may be reused at once.
#include <errno.h>
#include <limits.h>

#include <new>

#include "internal.h"
#include "sync.h"
#include "wait.h"

namespace green {

namespace {

constexpr uint32_t DESTROYING = 1u << 31;

struct barrier {
  std::atomic<uint64_t> state;
  uint32_t count;
  uint32_t shared;
  std::atomic<uint32_t> pending;
  uint32_t unused[3];
};
static_assert(sizeof(barrier) == sizeof(pthread_barrier_t));

barrier* get(pthread_barrier_t* b) { return reinterpret_cast<barrier*>(b); }
std::atomic<uint32_t>& gen_word(barrier* b) {  // the high half of state (little endian)
  return reinterpret_cast<std::atomic<uint32_t>*>(&b->state)[1];
}

}  // namespace

int barrier_init(pthread_barrier_t* pb, unsigned count, bool pshared) {
  if (count == 0 || count >= UINT_MAX / 2) return EINVAL;
  barrier* b = new (pb) barrier{};
  b->count = count;
  b->shared = pshared ? 1 : 0;
  return 0;
}

int barrier_wait(pthread_barrier_t* pb) {
  barrier* b = get(pb);
  bool sh = b->shared;
  uint64_t s = b->state.load(std::memory_order_relaxed);
  for (;;) {
    uint32_t gen = (uint32_t)(s >> 32), arrived = (uint32_t)s;
    if (arrived + 1 == b->count) {
      // Publish how many must still leave before the generation flips.
      b->pending.fetch_add(arrived, std::memory_order_relaxed);
      if (b->state.compare_exchange_strong(s, (uint64_t)(gen + 1) << 32,
                                           std::memory_order_acq_rel)) {
        if (arrived) wake_word(&gen_word(b), &gen_word(b), true, sh);
        return PTHREAD_BARRIER_SERIAL_THREAD;
      }
      b->pending.fetch_sub(arrived, std::memory_order_relaxed);
      continue;
    }
    if (b->state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel)) break;
  }
  uint32_t gen = (uint32_t)(s >> 32);
  while (gen_word(b).load(std::memory_order_acquire) == gen)
    wait_word(&gen_word(b), &gen_word(b), gen, 0, CLOCK_MONOTONIC, sh, {wait_kind::barrier, pb});
  // Out: the last access to the barrier.
  if (b->pending.fetch_sub(1, std::memory_order_release) == (DESTROYING | 1))
    wake_word(&b->pending, &b->pending, true, sh);
  return 0;
}

int barrier_destroy(pthread_barrier_t* pb) {
  barrier* b = get(pb);
  uint32_t n = b->pending.fetch_or(DESTROYING, std::memory_order_acq_rel);
  while (n & ~DESTROYING) {
    wait_word(&b->pending, &b->pending, n | DESTROYING, 0, CLOCK_MONOTONIC, b->shared,
              {wait_kind::barrier, pb});
    n = b->pending.load(std::memory_order_acquire);
  }
  return 0;
}

}  // namespace green
