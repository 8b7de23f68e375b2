// Run queues.
//
// Local queue (per P): a ring of RUNQ_SIZE slots. Invariants:
//  - only the M owning the P writes `tail` and fills slots (runq_put);
//  - any M takes from `head` with a CAS (owner in runq_get, thieves in
//    runq_steal), so a G is taken by exactly one of them;
//  - tail - head <= RUNQ_SIZE at all times; when the ring is full, half of
//    it moves to the global queue with the new G (runq_put_slow);
//  - runnext holds a G readied by the running G: it runs next, ahead of the
//    ring, which keeps ping-pong pairs on one P. Thieves take it only on
//    their last round. Such a pair keeps runnext full for ever, so the
//    scheduler's fairness tick (every 61st switch) takes from the ring
//    first (runq_get(p, false)).
// Global queue: FIFO list through G.schedlink under sched.mu.
#include "internal.h"
#include "probes.h"

namespace green {

bool runq_empty(const P* p) {
  uint32_t h = p->q.head.load(std::memory_order_acquire);
  uint32_t t = p->q.tail.load(std::memory_order_acquire);
  return h == t && p->q.runnext.load(std::memory_order_acquire) == nullptr;
}

static bool runq_put_slow(P* p, G* g, uint32_t h, uint32_t t) {
  G* batch[RUNQ_SIZE / 2 + 1];
  uint32_t n = (t - h) / 2;
  GREEN_ASSERT(n == RUNQ_SIZE / 2);
  for (uint32_t i = 0; i < n; i++)
    batch[i] = p->q.slots[(h + i) % RUNQ_SIZE].load(std::memory_order_relaxed);
  if (!p->q.head.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) return false;
  batch[n] = g;
  lock_guard l(sched.mu);
  for (uint32_t i = 0; i <= n; i++) globrunq_put(batch[i]);
  return true;
}

// Executed only by the owner P's M.
void runq_put(P* p, G* g, bool next) {
  if (next) {
    p->q.nextgen.store(p->q.nextgen.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    // An empty runnext is ours alone (thieves only take a G out of it): a
    // plain store, no locked instruction (a hand-over pair's common case).
    if (!p->q.runnext.load(std::memory_order_relaxed)) {
      p->q.runnext.store(g, std::memory_order_release);
      return;
    }
    G* old = p->q.runnext.exchange(g, std::memory_order_acq_rel);
    if (!old) return;
    g = old;  // kick the old runnext to the tail
  }
  for (;;) {
    uint32_t h = p->q.head.load(std::memory_order_acquire);
    uint32_t t = p->q.tail.load(std::memory_order_relaxed);
    if (t - h < RUNQ_SIZE) {
      p->q.slots[t % RUNQ_SIZE].store(g, std::memory_order_relaxed);
      p->q.tail.store(t + 1, std::memory_order_release);
      return;
    }
    if (runq_put_slow(p, g, h, t)) return;
  }
}

// Executed only by the owner P's M.
G* runq_get(P* p, bool runnext_first) {
  if (runnext_first) {
    G* next = p->q.runnext.load(std::memory_order_relaxed);
    if (next && p->q.runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel))
      return next;
  }
  for (;;) {
    uint32_t h = p->q.head.load(std::memory_order_acquire);
    uint32_t t = p->q.tail.load(std::memory_order_relaxed);
    if (t == h) break;
    G* g = p->q.slots[h % RUNQ_SIZE].load(std::memory_order_relaxed);
    if (p->q.head.compare_exchange_weak(h, h + 1, std::memory_order_acq_rel)) return g;
  }
  return runnext_first ? nullptr : runq_get(p, true);
}

// Take half of victim's queue into thief's (whose queue is empty); return
// one G to run. Executed by thief's M.
G* runq_steal(P* thief, P* victim, bool steal_runnext) {
  for (;;) {
    uint32_t h = victim->q.head.load(std::memory_order_acquire);
    uint32_t t = victim->q.tail.load(std::memory_order_acquire);
    uint32_t n = t - h;
    n -= n / 2;
    if (n == 0) {
      if (!steal_runnext) return nullptr;
      uint32_t gen = victim->q.nextgen.load(std::memory_order_acquire);
      G* next = victim->q.runnext.load(std::memory_order_acquire);
      if (!next) return nullptr;
      if (victim->status.load(std::memory_order_relaxed) == P_RUNNING) {  // (P.m is its owner's)
        // The victim is running and will most likely switch to runnext in
        // a moment (a G that readied another and is about to block): give
        // it a few us before taking it away, as Go does. Only if runnext
        // held that G all along: if another was put there even once, the
        // victim is handing over (a pair: A, then B, then A again, each
        // fresh; nextgen tells them apart).
        for (int i = 0; i < 300; i++) {
          if (victim->q.runnext.load(std::memory_order_relaxed) != next ||
              victim->q.nextgen.load(std::memory_order_relaxed) != gen)
            return nullptr;
          __builtin_ia32_pause();
        }
      }
      // (A put between the last look and this CAS is taken as well: rare,
      // and harmless, it only moves a G; putting it back could strand it
      // on a P that has gone idle.)
      if (!victim->q.runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel))
        return nullptr;
      stats.steals.fetch_add(1, std::memory_order_relaxed);
      GREEN_PROBE3(steal, thief->id, victim->id, 1);
      return next;
    }
    if (n > RUNQ_SIZE / 2) continue;  // inconsistent h/t snapshot, retry
    uint32_t tt = thief->q.tail.load(std::memory_order_relaxed);
    for (uint32_t i = 0; i < n; i++) {
      G* g = victim->q.slots[(h + i) % RUNQ_SIZE].load(std::memory_order_relaxed);
      thief->q.slots[(tt + i) % RUNQ_SIZE].store(g, std::memory_order_relaxed);
    }
    if (!victim->q.head.compare_exchange_strong(h, h + n, std::memory_order_acq_rel)) continue;
    stats.steals.fetch_add(1, std::memory_order_relaxed);
    GREEN_PROBE3(steal, thief->id, victim->id, n);
    G* g = thief->q.slots[(tt + n - 1) % RUNQ_SIZE].load(std::memory_order_relaxed);
    if (n > 1) thief->q.tail.store(tt + n - 1, std::memory_order_release);
    return g;
  }
}

void globrunq_put(G* g) {
  g->schedlink = nullptr;
  if (sched.runq_tail)
    sched.runq_tail->schedlink = g;
  else
    sched.runq_head = g;
  sched.runq_tail = g;
  sched.runq_size.fetch_add(1, std::memory_order_relaxed);
}

// Take one G to run and up to max-1 more into p's local queue.
G* globrunq_get(P* p, int max) {
  int size = sched.runq_size.load(std::memory_order_relaxed);
  if (size == 0) return nullptr;
  int n = size / sched.nprocs + 1;
  if (n > size) n = size;
  if (max > 0 && n > max) n = max;
  if (n > (int)RUNQ_SIZE / 2) n = RUNQ_SIZE / 2;
  G* g = sched.runq_head;
  sched.runq_head = g->schedlink;
  for (int i = 1; i < n; i++) {
    G* h = sched.runq_head;
    sched.runq_head = h->schedlink;
    runq_put(p, h, false);
  }
  if (!sched.runq_head) sched.runq_tail = nullptr;
  sched.runq_size.fetch_sub(n, std::memory_order_relaxed);
  return g;
}

}  // namespace green
