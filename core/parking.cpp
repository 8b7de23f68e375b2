// The parking lot: one address-keyed table of wait queues on which every
// blocking primitive parks (mutex, cond, once, join, ...), as Go's semaphore
// table or WebKit's ParkingLot.
//
// Invariants:
//  - A waiter is queued in the bucket of its address, FIFO (or first, when
//    it asks: park_opts.front), and only while
//    its `state` is WAITING; whoever dequeues it (unpark or timeout) sets the
//    final state under the bucket lock, so exactly one of them wins.
//  - validate() runs under the bucket lock, before queueing: an unparker that
//    changes the state validate() reads and then takes the bucket lock can
//    never miss a waiter (no lost wake-ups).
//  - A G waiter's bucket lock is released by g0 after the G's context is
//    saved (park_current): when an unparker finds it, it can be resumed.
//  - A waiter record lives on the waiter's stack. A G waiter cannot run
//    before ready(), so its record is valid until then; an OS-thread waiter
//    may return as soon as it sees its state change, so unparkers touch
//    nothing but the futex word after that store.
//  - Callers outside a G (an M's g0, a thread libgreen did not create, or
//    before the runtime starts) block their OS thread on the state word.
//  - requeue() moves a waiter to another address's queue while holding both
//    bucket locks (lower address first), and updates `addr` and `b` there
//    (and an interruptible G's park_bucket). So whoever acts for a waiter
//    itself (its timeout) locks the bucket it reads from `b` and checks `b`
//    again under that lock (lock_queue_of), as interrupt() does.
//    A requeued waiter no longer times out: its wait ended when it was
//    moved, and it now waits for the unpark of the new address.
//  - Interruption: a G in an interruptible park has G.park_bucket = its
//    bucket and G.park_waiter = its record (set by park, cleared by
//    whoever dequeues it: unpark, timeout or interrupt, under the bucket
//    lock; an operation that moves a waiter to another bucket must move
//    park_bucket with it: requeue does). interrupt() sets G.intr (a locked
//    instruction) before it reads park_bucket; park() stores park_bucket
//    before it takes the bucket lock (a locked instruction: on x86-64 a
//    full barrier, so the store is visible before G.intr is read under the
//    lock; this saves a fence per interruptible park). One of them sees
//    the other: an interrupt is never lost. park_waiter is set under the
//    lock; interrupt() that finds park_bucket set but no waiter yet leaves
//    the bits for park to see under the lock. Exactly one dequeuer wins.
#include <errno.h>

#include <new>

#include "internal.h"
#include "os.h"
#include "probes.h"

namespace green {

namespace {

enum : uint32_t { WAITING, WOKEN, TIMED_OUT, INTERRUPTED };

struct bucket;

struct waiter {
  const void* addr;
  waiter* next;
  waiter* prev;
  G* g;
  std::atomic<bucket*> b;
  bool interruptible = false;
  std::atomic<uint32_t> state{WAITING};
  const void* requeue_to = nullptr;  // requeue() may move it there (park_opts)
  wait_on requeue_why;               // what it waits for once moved (thread dumps)
  bool requeued = false;             // moved by requeue(): no timeout any more
  timer t;
};

struct alignas(64) bucket {
  lock mu;
  waiter* head = nullptr;
  waiter* tail = nullptr;
};

// 16,384 buckets (1 MiB, touched as used): with 10,000 Gs parked on
// distinct addresses (an echo server's connections) 4,096 buckets gave
// chains of ~2.4 waiters, each on another G's stack, and unpark's walk
// was a third of libgreen's own CPU in the server (5.0 % -> 2.6 %).
constexpr int TABLE_BITS = 14;
bucket table[1 << TABLE_BITS];

bucket& bucket_for(const void* addr) {
  uint64_t h = (reinterpret_cast<uintptr_t>(addr) >> 3) * 0x9e3779b97f4a7c15ull;
  return table[h >> (64 - TABLE_BITS)];
}

void enqueue_front(bucket& b, waiter* w) {
  w->prev = nullptr;
  w->next = b.head;
  if (b.head)
    b.head->prev = w;
  else
    b.tail = w;
  b.head = w;
}

void enqueue(bucket& b, waiter* w) {
  w->next = nullptr;
  w->prev = b.tail;
  if (b.tail)
    b.tail->next = w;
  else
    b.head = w;
  b.tail = w;
}

// Bucket lock held: w leaves the queue; an interruptible G forgets it.
void unlink_park(waiter* w) {
  if (!w->interruptible) return;
  w->g->park_waiter = nullptr;
  w->g->park_bucket.store(nullptr, std::memory_order_relaxed);
}

void dequeue(bucket& b, waiter* w) {
  unlink_park(w);
  if (w->prev)
    w->prev->next = w->next;
  else
    b.head = w->next;
  if (w->next)
    w->next->prev = w->prev;
  else
    b.tail = w->prev;
}

// Lock the bucket w is queued in (requeue() may move it until we hold it).
bucket& lock_queue_of(waiter* w) {
  for (;;) {
    bucket* b = w->b.load(std::memory_order_acquire);
    b->mu.acquire();
    if (w->b.load(std::memory_order_relaxed) == b) return *b;
    b->mu.release();
  }
}

void on_timeout(timer* t) {
  waiter* w = reinterpret_cast<waiter*>(reinterpret_cast<char*>(t) - offsetof(waiter, t));
  bucket& b = lock_queue_of(w);
  G* g = nullptr;
  if (w->state.load(std::memory_order_relaxed) == WAITING && !w->requeued) {
    dequeue(b, w);
    w->state.store(TIMED_OUT, std::memory_order_release);
    g = w->g;
  }
  b.mu.release();
  if (g) ready(g);
}

int64_t to_monotonic(int64_t deadline, clockid_t clock) {
  if (clock == CLOCK_MONOTONIC) return deadline;
  return deadline - os::now_ns(clock) + os::now_ns(CLOCK_MONOTONIC);
}

// Wake the first waiter on addr (all of them if all); returns how many.
// locked(arg, n, left), if given, runs under the bucket lock once the last
// batch (n waiters) is dequeued, before any waiter of it can return; left:
// waiters of addr remain queued.
int unpark(const void* addr, bool all, void (*locked)(void*, int, bool) = nullptr,
           void* arg = nullptr) {
  bucket& b = bucket_for(addr);
  int n = 0;
  for (;;) {
    waiter* ws[32];
    int nw = 0;
    bool left = false;
    b.mu.acquire();
    for (waiter* w = b.head; w;) {
      waiter* next = w->next;
      if (w->addr == addr) {
        if (nw == 32 || (!all && nw == 1)) {
          left = true;
          break;
        }
        dequeue(b, w);
        ws[nw++] = w;
        if (!all && !locked) break;  // nobody asks what is left
      }
      w = next;
    }
    bool again = all && left;  // a full batch: the rest in another round
    if (locked && !again) locked(arg, nw, left);
    G* gs[32];
    std::atomic<uint32_t>* os_waiters[32];
    int ng = 0, nos = 0;
    for (int i = 0; i < nw; i++) {
      if (ws[i]->g)
        gs[ng++] = ws[i]->g;
      else
        os_waiters[nos++] = &ws[i]->state;
      ws[i]->state.store(WOKEN, std::memory_order_release);  // an OS waiter may return now
    }
    b.mu.release();
    for (int i = 0; i < nos; i++) os::futex_wake(os_waiters[i], 1);
    for (int i = 0; i < ng; i++) ready(gs[i]);
    n += nw;
    if (!again) return n;
  }
}

}  // namespace

std::atomic<uint32_t> park_gen{1};

// Nothing to hold across fork: in the child every waiter is gone (Gs of
// the parent, OS threads), so the table starts empty.
// Marks that name a waiter (a mutex's woken flag) carry park_gen, so
// the child's bump voids those left by the parent's waiters.
void parking_fork(fork_phase ph) {
  if (ph != fork_phase::child) return;
  for (auto& b : table) new (&b) bucket();
  park_gen.store(park_gen.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

park_result park(const void* addr, park_validate_fn validate, const void* ctx, int64_t deadline_ns,
                 clockid_t clock, wait_on why, bool interruptible) {
  return park(addr, validate, ctx, deadline_ns, clock, why, interruptible, nullptr);
}

park_result park(const void* addr, park_validate_fn validate, const void* ctx, int64_t deadline_ns,
                 clockid_t clock, wait_on why, bool interruptible, park_opts* opts) {
  bucket& b = bucket_for(addr);
  waiter w;
  w.addr = addr;
  w.b.store(&b, std::memory_order_relaxed);
  w.g = sched.started.load(std::memory_order_relaxed) ? getg_switchable() : nullptr;
  void (*after)(void*) = opts ? opts->after : nullptr;
  if (opts) {
    w.requeue_to = opts->requeue_to;
    w.requeue_why = opts->requeue_why;
  }
  if (w.g) {  // for thread dumps; outside the bucket lock
    w.g->wait.store(why.kind, std::memory_order_relaxed);
    w.g->wait_obj.store(why.obj, std::memory_order_relaxed);
    w.g->wait_since.store(diag_timestamps ? os::now_ns(CLOCK_MONOTONIC_COARSE) : 0,
                          std::memory_order_relaxed);
  }
  if (deadline_ns > 0 && os::now_ns(clock) >= deadline_ns) {
    b.mu.acquire();
    bool valid = !validate || validate(addr, ctx);
    b.mu.release();
    if (after) after(opts->after_arg);
    return valid ? park_result::timeout : park_result::invalid;
  }
  bool intr = interruptible && w.g;
  // Published before the lock's locked instruction, the flags read after
  // it; interrupt() sets the flags before it reads this: one of us sees
  // the other (see the invariants).
  if (intr) w.g->park_bucket.store(&b, std::memory_order_relaxed);
  std::atomic_signal_fence(std::memory_order_seq_cst);  // keep the compiler from sinking it
  b.mu.acquire();
  if (validate && !validate(addr, ctx)) {
    if (intr) w.g->park_bucket.store(nullptr, std::memory_order_relaxed);
    b.mu.release();
    if (after) after(opts->after_arg);
    return park_result::invalid;
  }
  if (intr) {
    w.interruptible = true;
    if (w.g->intr.load(std::memory_order_relaxed)) {
      w.g->park_bucket.store(nullptr, std::memory_order_relaxed);
      b.mu.release();
      if (after) after(opts->after_arg);
      return park_result::interrupted;
    }
    w.g->park_waiter = &w;
  }
  if (opts && opts->front)
    enqueue_front(b, &w);
  else
    enqueue(b, &w);
  if (w.g) {
    if (deadline_ns > 0) {
      w.t.when = to_monotonic(deadline_ns, clock);
      w.t.fire = on_timeout;
      timer_add(&w.t);
    }
    GREEN_PROBE2(park, w.g->id, addr);
    park_current(&b.mu, after, after ? opts->after_arg : nullptr);
    if (deadline_ns > 0) timer_cancel(&w.t);
  } else {
    b.mu.release();
    if (after) after(opts->after_arg);
    while (w.state.load(std::memory_order_acquire) == WAITING) {
      int r = os::futex_wait_abs(&w.state, WAITING, deadline_ns, clock);
      if (r == -ETIMEDOUT) {
        bucket& qb = lock_queue_of(&w);
        if (w.requeued)
          deadline_ns = 0;  // moved: now waits for the new address's unpark
        else if (w.state.load(std::memory_order_relaxed) == WAITING) {
          dequeue(qb, &w);
          w.state.store(TIMED_OUT, std::memory_order_relaxed);
        }
        qb.mu.release();
      }
    }
  }
  if (opts) opts->requeued = w.requeued;
  switch (w.state.load(std::memory_order_acquire)) {
    case TIMED_OUT: return park_result::timeout;
    case INTERRUPTED: return park_result::interrupted;
    default: return park_result::woken;
  }
}

void interrupt(G* g, uint32_t bits, bool only_if_parked) {
  g->intr.fetch_or(bits, std::memory_order_seq_cst);
  for (;;) {
    auto* b = static_cast<bucket*>(g->park_bucket.load(std::memory_order_seq_cst));
    if (!b) break;
    b->mu.acquire();
    if (g->park_bucket.load(std::memory_order_relaxed) != b) {  // moved on: look again
      b->mu.release();
      continue;
    }
    auto* w = static_cast<waiter*>(g->park_waiter);
    // Not queued yet: park reads the bits under this lock, after us.
    if (!w || w->state.load(std::memory_order_relaxed) != WAITING) {
      b->mu.release();
      break;
    }
    dequeue(*b, w);
    w->state.store(INTERRUPTED, std::memory_order_release);
    b->mu.release();
    ready(g);  // its context is saved: g0 released the bucket lock after that
    return;
  }
  if (only_if_parked) g->intr.fetch_and(~bits, std::memory_order_relaxed);
}

int unpark_one(const void* addr) { return unpark(addr, false); }

G* unpark_take(const void* addr) {
  bucket& b = bucket_for(addr);
  lock_guard l(b.mu);
  waiter* w = b.head;
  while (w && w->addr != addr) w = w->next;
  if (!w || !w->g) return nullptr;
  dequeue(b, w);
  G* g = w->g;
  w->state.store(WOKEN, std::memory_order_release);
  GREEN_PROBE1(ready, g->id);
  return g;
}
int unpark_all(const void* addr) { return unpark(addr, true); }

// ---- for the synchronisation objects: wait morphing, "has waiters" flags ----

int unpark_one_then(const void* addr, void (*locked)(void* arg, int woken, bool left), void* arg) {
  return unpark(addr, false, locked, arg);
}

int requeue(const void* from, const void* to, int n, park_validate_fn validate, const void* ctx) {
  bucket& bf = bucket_for(from);
  bucket& bt = bucket_for(to);
  bucket* first = &bf < &bt ? &bf : &bt;
  bucket* second = &bf < &bt ? &bt : &bf;
  first->mu.acquire();
  if (second != first) second->mu.acquire();
  waiter* w = bf.head;
  while (w && w->addr != from) w = w->next;
  int moved = 0;
  // Only a waiter that allows `to` vouches for it (e.g. a mutex its
  // waiter will relock is alive): validate runs only then.
  if (w && w->requeue_to == to && (!validate || validate(to, ctx))) {
    while (w && moved < n) {
      waiter* next = w->next;
      if (w->addr == from) {
        if (w->requeue_to != to) break;  // keep FIFO order: stop here
        dequeue(bf, w);  // (an interruptible G forgets its bucket here)
        w->addr = to;
        w->requeued = true;
        w->b.store(&bt, std::memory_order_release);
        enqueue(bt, w);
        if (w->interruptible) {  // interrupt() finds it in its new bucket
          w->g->park_waiter = w;
          w->g->park_bucket.store(&bt, std::memory_order_release);
        }
        if (w->g) {
          w->g->wait.store(w->requeue_why.kind, std::memory_order_relaxed);
          w->g->wait_obj.store(w->requeue_why.obj, std::memory_order_relaxed);
        }
        moved++;
      }
      w = next;
    }
  }
  if (second != first) second->mu.release();
  first->mu.release();
  return moved;
}


}  // namespace green
