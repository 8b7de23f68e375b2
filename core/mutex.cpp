// pthread mutexes: every kind, robust, priority-protocol and process-shared.
// State lives in the caller's pthread_mutex_t, in glibc's own fields, so
// every static initialiser works (they only set __kind):
//   __lock     0 unlocked, 1 locked, 2 locked and maybe contended
//   __owner    owner identity (G.owner_id, or the kernel tid outside a G)
//   __count    recursion depth beyond the first lock (RECURSIVE)
//   __kind     glibc's encoding: type (bits 0-1) | 16 robust | 32 prio-inherit
//              | 64 prio-protect | 128 process-shared; -1 once destroyed
//   __nusers   process-shared: the owner's pid (owner ids repeat across
//              processes; with __owner one 64-bit word, stored and compared
//              at once); private: the wake-up and queue marks (wake_one)
//   __spins    prio-protect: the priority ceiling
//   __elision  robust: ROBUST_OK / OWNER_DIED / INCONSISTENT / NOTRECOVERABLE
//   __list     robust: links of the owner's list of robust mutexes it holds
// glibc's pthread_mutex_init puts the ceiling in __lock and marks robust
// mutexes process-shared; ours (shim) encodes as above instead.
//
// Invariant: a waiter sets __lock to 2 before waiting, and waits only while
// __lock is still 2 (checked by the kernel for process-shared mutexes;
// under the bucket lock for private ones, which set it to 2 there if the
// holder re-took it as 1, or wait with it free while a wake-up is owed to
// the queue: see take_or_queue); an unlocker that saw 2 wakes one waiter
// after storing 0. Hence no wake-up is lost. Private mutexes park Gs on the
// parking lot; shared ones sleep in the kernel (wait.h).
//
// Private mutexes also keep a wake-up mark in __nusers (see wake_one): at
// most one woken waiter retries at a time, so the G that holds the mutex
// keeps re-taking it while the others sleep, as native threads do; and a
// waiter that has failed for STARVE_NS queues first and makes every
// unlock yield to the woken one until it gets in, so a G that re-locks at
// once cannot keep it out for ever (on one P it would: preemption only
// lands in application code, which is inside its critical section).
// A contender spins before it parks only while nobody is queued (a
// QUEUED mark in __nusers) and its P has nothing else to run (may_spin).
//
// Robust mutexes are robust against the death of the G holding them: each
// G keeps a list of those it holds (a TLS head: TLS is per G), and
// robust_owner_exit releases them as OWNER_DIED when the G ends (thread.cpp,
// after its destructors). An OS thread that is not a G keeps its list too,
// but nothing releases it at its exit.
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <sched.h>

#include "internal.h"
#include "mutex.h"
#include "os.h"
#include "sync.h"
#include "wait.h"

namespace green {

namespace {

constexpr int KIND_MASK = 3;  // PTHREAD_MUTEX_KIND_MASK_NP
constexpr int ROBUST = 16, PRIO_INHERIT = 32, PRIO_PROTECT = 64, PSHARED = 128;
constexpr int KNOWN_BITS = KIND_MASK | ROBUST | PRIO_INHERIT | PRIO_PROTECT | PSHARED |
                           256 | 512;  // glibc's elision hints, ignored
enum : short { ROBUST_OK, OWNER_DIED, INCONSISTENT, NOTRECOVERABLE };

__thread pthread_mutex_t* tls_robust_head;  // robust mutexes this G holds

std::atomic<int>& word(pthread_mutex_t* m) {
  return *reinterpret_cast<std::atomic<int>*>(&m->__data.__lock);
}
std::atomic<uint32_t>& uword(pthread_mutex_t* m) {
  return *reinterpret_cast<std::atomic<uint32_t>*>(&m->__data.__lock);
}
std::atomic<short>& rstate(pthread_mutex_t* m) {
  return *reinterpret_cast<std::atomic<short>*>(&m->__data.__elision);
}

// Process-shared: __owner and __nusers as one 64-bit word (id, pid),
// written and compared at once. Written one after the other, a thread of
// the other process with the same id matched the new id with the old pid
// (tests/sync pshared_owner: a recursive lock taken as a re-entry, an
// unlock refused with EPERM that left the mutex held for ever).
std::atomic<uint64_t>& shared_owner(const pthread_mutex_t* m) {
  static_assert(offsetof(pthread_mutex_t, __data.__owner) % 8 == 0 &&
                    offsetof(pthread_mutex_t, __data.__nusers) ==
                        offsetof(pthread_mutex_t, __data.__owner) + 4,
                "__owner and __nusers make one aligned 64-bit word, __owner its low half");
  return *reinterpret_cast<std::atomic<uint64_t>*>(
      const_cast<char*>(reinterpret_cast<const char*>(m)) + offsetof(pthread_mutex_t, __data.__owner));
}

bool is_owner(const pthread_mutex_t* m, int kind) {
  if (kind & PSHARED) return shared_owner(m).load(std::memory_order_relaxed) == owner_pshared(owner_self());
  return m->__data.__owner == owner_self();
}

void set_owner(pthread_mutex_t* m, int kind, int id) {
  if (kind & PSHARED)
    shared_owner(m).store(owner_pshared(id), std::memory_order_relaxed);
  else
    m->__data.__owner = id;
}

// ---- the robust list: a G's held robust mutexes, linked through __list ----
void robust_link(pthread_mutex_t* m) {
  auto& l = m->__data.__list;
  l.__prev = nullptr;
  l.__next = reinterpret_cast<__pthread_list_t*>(tls_robust_head);
  if (tls_robust_head)
    tls_robust_head->__data.__list.__prev = reinterpret_cast<__pthread_list_t*>(m);
  tls_robust_head = m;
}

void robust_unlink(pthread_mutex_t* m) {
  auto& l = m->__data.__list;
  auto* prev = reinterpret_cast<pthread_mutex_t*>(l.__prev);
  auto* next = reinterpret_cast<pthread_mutex_t*>(l.__next);
  if (prev)
    prev->__data.__list.__next = l.__next;
  else if (tls_robust_head == m)
    tls_robust_head = next;
  if (next) next->__data.__list.__prev = l.__prev;
  l.__prev = l.__next = nullptr;
}

// ---- waking (private mutexes): one woken waiter at a time, no starving ----
// __nusers of a private mutex (Go's mutexWoken and mutexStarving):
//   bits 0-29  park_gen while a waiter that an unlock dequeued has not yet
//              made its next attempt, or while an unlock that claimed the
//              wake-up (release_claimed) has not yet dequeued one, else 0
//              (or a past generation: that waiter was lost in a fork);
//              unlocks meanwhile wake nobody
//   bit 30     QUEUED: waiters may be parked on the mutex. Set under the
//              bucket lock as one queues (take_or_queue; for requeue,
//              mutex_mark_contended), cleared under it by the unlock that
//              dequeues the last one; a timed-out waiter may leave it set
//              until the next wake-up finds nobody. A contender that sees
//              it parks without spinning (may_spin).
//   bit 31     STARVING: a waiter failed again after waiting STARVE_NS; it
//              queued first, and every unlock yields to the woken waiter
//              until one that waited less (or it) gets the mutex
constexpr uint32_t STARVING = 1u << 31, QUEUED = 1u << 30, GEN = QUEUED - 1;
constexpr int64_t STARVE_NS = 1000000;

std::atomic<uint32_t>& woken(pthread_mutex_t* m) {
  return *reinterpret_cast<std::atomic<uint32_t>*>(&m->__data.__nusers);
}

uint32_t gen() { return park_gen.load(std::memory_order_relaxed) & GEN; }

// Under the bucket lock: n waiters dequeued, `left` others still queued.
// claimed: the unlock set the mark before it stored 0 (release_claimed);
// if it found nobody, it takes the mark back.
void update_woken(void* mp, int n, bool left, bool claimed) {
  auto& f = woken(static_cast<pthread_mutex_t*>(mp));
  uint32_t v = f.load(std::memory_order_relaxed), nv;
  do {
    nv = n ? (v & (STARVING | QUEUED)) | gen() : claimed ? v & (STARVING | QUEUED) : v;
    if (!left) nv &= ~QUEUED;
  } while (nv != v && !f.compare_exchange_weak(v, nv, std::memory_order_relaxed));
}
void set_woken(void* mp, int n, bool left) { update_woken(mp, n, left, false); }
void set_claimed_woken(void* mp, int n, bool left) { update_woken(mp, n, left, true); }

// The word was 2 when we stored 0 (seq_cst): wake one waiter, unless one
// woken earlier has still to make its attempt, or none is queued (QUEUED
// clear; a waiter sets it before it checks the word: take_or_queue).
// Taking the bucket lock to find nobody made waiters that queue behind
// it see the word free and take it: the mutex changed CPU at every lock.
// claimed: release_claimed set the mark already. The woken waiter's
// attempt (lock_slow: clear the mark, then take the word, seq_cst both)
// comes after our store, so it either takes the mutex, whose next unlock
// looks again, or finds it held by someone who took it after us and
// marks it 2 for their unlock.
// With a waiter starving, step aside so the woken one runs now: a G that
// re-locks at once would otherwise win every time on one P.
void wake_one(pthread_mutex_t* m, bool claimed = false) {
  uint32_t v = woken(m).load(std::memory_order_seq_cst);
  if (claimed)
    unpark_one_then(&word(m), set_claimed_woken, m);
  else if ((v & GEN) != gen() && (v & QUEUED))
    unpark_one_then(&word(m), set_woken, m);
  if ((v & STARVING) && getg_switchable() && sched.started.load(std::memory_order_relaxed))
    gosched(true);
}

// Release a private mutex whose word we saw 2. If waiters are queued and
// no woken one is out, set the wake-up mark before we store 0: a waiter
// that queues meanwhile and finds the word free then waits for that
// wake-up (take_or_queue) instead of taking the mutex. Otherwise the
// unlock stored 0 and then waited for the bucket lock, held by a
// contender queueing, which saw the word free and took it: the mutex
// moved to the other CPU at nearly every contended unlock (bench
// mutex_contended_1000). Without a claim, wake_one looks again after the
// store (a waiter may have set QUEUED since we looked).
void release_claimed(pthread_mutex_t* m) {
  auto& f = woken(m);
  uint32_t v = f.load(std::memory_order_seq_cst);
  bool claimed = false;
  while (!claimed && (v & GEN) != gen() && (v & QUEUED))
    claimed = f.compare_exchange_weak(v, (v & ~GEN) | gen(), std::memory_order_seq_cst);
  if (word(m).exchange(0, std::memory_order_seq_cst) == 2 || claimed) wake_one(m, claimed);
}

// Store 0 and wake one waiter (all of them when the mutex became unusable).
void release(pthread_mutex_t* m, int kind, bool all) {
  if (!all && !(kind & PSHARED) && word(m).load(std::memory_order_relaxed) == 2)
    return release_claimed(m);
  if (word(m).exchange(0, std::memory_order_seq_cst) != 2 && !all) return;
  if (all || (kind & PSHARED))
    wake_word(&word(m), &word(m), all, kind & PSHARED);
  else
    wake_one(m);
}

// Whether a contender spins before it parks. Two Gs that both spin on
// two Ps trade the mutex at (nearly) every unlock, its cache line moving
// between the CPUs each time, for as long as both keep locking: measured
// 30-100 ns per lock with 1,000 Gs on one mutex against 15 when one G
// keeps re-taking it while the others wait (bench mutex_contended_1000).
// glibc's mutex never spins, so natively a contender sleeps and the
// holder runs on. Hence spin only when it cannot start such a trade:
// nobody is queued (else the queue's turn comes first anyway), and our P
// has nothing else to run (Go's canSpin; else we keep those Gs waiting,
// and a fresh G that wins by spinning starts the trade before anyone
// has queued).
bool may_spin(pthread_mutex_t* m, bool priv) {
  if (priv && (woken(m).load(std::memory_order_relaxed) & QUEUED)) return false;
  P* p = getp();
  return !p || runq_empty(p);
}

// A private waiter's attempt, made under the bucket lock as the park's
// validation (take_or_queue).
struct attempt {
  pthread_mutex_t* m;
  bool starve;               // if it fails: set STARVING
  bool got = false;          // out: took the word (as 2)
  bool set_starving = false; // out: set STARVING
};

// Take the word if free (as 2: others may be queued), else mark it 2 (the
// holder may have re-taken it as 1) and QUEUED and wait. QUEUED goes
// first (seq_cst, as the word's accesses here and the unlock's exchange
// and read of the mark): an unlock that stores 0 after we saw the word
// held then sees QUEUED, and wakes (wake_one). The attempt is made here,
// not by an exchange before the park: the 2 it left made the holder's
// next unlock, a few ns later, take the bucket lock while we held it to
// validate, so we saw the word free, retried and won: the mutex changed
// CPU at nearly every contended lock (bench mutex_contended_1000). Made
// here, the word becomes 2 only once we are sure to queue.
bool take_or_queue(const void* key, const void* ctx) {
  (void)key;
  auto* a = static_cast<attempt*>(const_cast<void*>(ctx));
  auto& w = word(a->m);
  uint32_t v = woken(a->m).fetch_or(QUEUED | (a->starve ? STARVING : 0), std::memory_order_seq_cst);
  a->set_starving = a->starve;
  // A wake-up is owed to the queue: an unlock claimed it (release_claimed)
  // or a woken waiter has still to make its attempt, which takes the word
  // or marks it 2 for its holder's unlock. Leave a free word to it.
  bool owed = (v & GEN) == gen();
  int c = w.load(std::memory_order_seq_cst);
  for (;;) {
    if (c == 0) {
      if (owed) return true;
      if (!w.compare_exchange_weak(c, 2, std::memory_order_seq_cst)) continue;
      a->got = true;
      return false;
    }
    if (c == 2 || w.compare_exchange_weak(c, 2, std::memory_order_seq_cst)) return true;
  }
}

// contended: the caller was requeued onto the mutex by a condvar (it may
// have company there): take the word only as 2, so that our unlock wakes
// the next one.
int lock_slow(pthread_mutex_t* m, int kind, int64_t deadline, clockid_t clock,
              bool contended = false) {
  std::atomic<int>& w = word(m);
  bool priv = !(kind & PSHARED);
  int spins = contended || !may_spin(m, priv) ? 0 : 64;
  for (int i = 0; i < spins; i++) {  // brief spin: the holder may be running
    int c = 0;
    if (w.load(std::memory_order_relaxed) == 0 &&
        w.compare_exchange_weak(c, 1, std::memory_order_acquire))
      return 0;
    __builtin_ia32_pause();
  }
  auto last_chance = [&w] {  // timed out; as glibc, the lock may be free right now
    int c = 0;
    return w.compare_exchange_strong(c, 2, std::memory_order_acquire) ? 0 : ETIMEDOUT;
  };
  if (!priv) {
    for (;;) {
      if (w.exchange(2, std::memory_order_seq_cst) == 0) return 0;
      // Someone else holds the word; it stays theirs to release.
      if ((kind & ROBUST) && rstate(m).load(std::memory_order_relaxed) == NOTRECOVERABLE)
        return ENOTRECOVERABLE;
      if (wait_word(&w, &uword(m), 2, deadline, clock, true, {wait_kind::mutex, m}) == ETIMEDOUT)
        return last_chance();
    }
  }
  bool woke = contended;  // requeued waiters were dequeued by an unlock
  bool starving = false;  // we set STARVING
  int64_t since = 0;      // first attempt in here
  for (;;) {
    // Our attempt follows this: from here on an unlock wakes the next.
    if (woke) woken(m).fetch_and(STARVING | QUEUED, std::memory_order_seq_cst);
    if ((kind & ROBUST) && rstate(m).load(std::memory_order_relaxed) == NOTRECOVERABLE)
      return ENOTRECOVERABLE;
    int64_t now = nanotime();
    if (!since) since = now;
    bool starved = woke && now - since >= STARVE_NS;  // if we fail now: queue first
    attempt a{m, starved && !starving};
    int r = wait_word(&w, &uword(m), 2, deadline, clock, false, {wait_kind::mutex, m}, false,
                      starved, take_or_queue, &a);
    starving |= a.set_starving;
    if (a.got) {
      // Starvation ends with the starving waiter, or with one that waited
      // less (a STARVING left by a waiter lost in a fork).
      if (starving || (woke && now - since < STARVE_NS))
        woken(m).fetch_and(~STARVING, std::memory_order_relaxed);
      return 0;
    }
    if (r == ETIMEDOUT) {
      if (starving) woken(m).fetch_and(~STARVING, std::memory_order_relaxed);
      return last_chance();
    }
    woke = true;
  }
}

// Everything but the plain NORMAL fast path.
int lock_full(pthread_mutex_t* m, const struct timespec* abstime, clockid_t clock, bool try_only,
              bool contended = false) {
  int kind = m->__data.__kind;
  if (kind & ~KNOWN_BITS) return EINVAL;  // destroyed or never initialised
  int type = kind & KIND_MASK;
  if ((kind & ROBUST) && rstate(m).load(std::memory_order_relaxed) == NOTRECOVERABLE)
    return ENOTRECOVERABLE;
  if (word(m).load(std::memory_order_relaxed) != 0 && is_owner(m, kind)) {
    if (type == PTHREAD_MUTEX_RECURSIVE) {
      if (m->__data.__count + 1 == 0) return EAGAIN;
      m->__data.__count++;
      return 0;
    }
    if (type == PTHREAD_MUTEX_ERRORCHECK && (!try_only || (kind & ROBUST))) return EDEADLK;
  }
  int c = 0;
  if (contended || !word(m).compare_exchange_strong(c, 1, std::memory_order_acquire)) {
    if (try_only) return EBUSY;
    int64_t deadline = 0;
    if (abstime) {
      int r = deadline_from(abstime, &deadline);  // checked only when we must wait, as glibc
      if (r) return r;
    }
    int r = lock_slow(m, kind, deadline, clock, contended);
    if (r) return r;
  }
  set_owner(m, kind, owner_self());
  m->__data.__count = 0;
  if (!(kind & ROBUST)) return 0;
  short st = rstate(m).load(std::memory_order_relaxed);
  if (st == NOTRECOVERABLE) {
    m->__data.__owner = 0;
    release(m, kind, true);
    return ENOTRECOVERABLE;
  }
  robust_link(m);
  if (st == OWNER_DIED) {
    rstate(m).store(INCONSISTENT, std::memory_order_relaxed);
    return EOWNERDEAD;
  }
  return 0;
}

}  // namespace

int mutex_init(pthread_mutex_t* m, const mutex_attr& a) {
  if (a.type < PTHREAD_MUTEX_NORMAL || a.type > PTHREAD_MUTEX_ADAPTIVE_NP) return EINVAL;
  *m = pthread_mutex_t{};
  int kind = a.type | (a.robust ? ROBUST : 0) | (a.pshared ? PSHARED : 0);
  if (a.protocol == PTHREAD_PRIO_INHERIT) kind |= PRIO_INHERIT;
  if (a.protocol == PTHREAD_PRIO_PROTECT) {
    kind |= PRIO_PROTECT;
    m->__data.__spins = (short)a.ceiling;
  }
  m->__data.__kind = kind;
  return 0;
}

int mutex_destroy(pthread_mutex_t* m) {
  // As glibc: a robust mutex may be destroyed in any state.
  if (!(m->__data.__kind & ROBUST) && word(m).load(std::memory_order_relaxed) != 0) return EBUSY;
  m->__data.__kind = -1;
  return 0;
}

int mutex_lock(pthread_mutex_t* m, const struct timespec* abstime, clockid_t clock) {
  if (m->__data.__kind == PTHREAD_MUTEX_NORMAL && !abstime) {
    int c = 0;
    if (__builtin_expect(word(m).compare_exchange_strong(c, 1, std::memory_order_acquire), 1)) {
      m->__data.__owner = owner_self();
      return 0;
    }
    int r = lock_slow(m, 0, 0, CLOCK_REALTIME);
    if (r) return r;
    m->__data.__owner = owner_self();
    return 0;
  }
  return lock_full(m, abstime, clock, false);
}

int mutex_trylock(pthread_mutex_t* m) { return lock_full(m, nullptr, CLOCK_REALTIME, true); }

int mutex_unlock(pthread_mutex_t* m) {
  if (m->__data.__kind == PTHREAD_MUTEX_NORMAL) {
    m->__data.__owner = 0;
    if (word(m).load(std::memory_order_relaxed) == 2)
      release_claimed(m);
    else if (word(m).exchange(0, std::memory_order_seq_cst) == 2)
      wake_one(m);
    return 0;
  }
  bool now = false;
  int r = mutex_unlock_begin(m, &now);
  if (now) mutex_unlock_finish(m);
  return r;
}

int mutex_unlock_begin(pthread_mutex_t* m, bool* release) {
  *release = false;
  int kind = m->__data.__kind;
  if (kind & ~KNOWN_BITS) return EINVAL;
  int type = kind & KIND_MASK;
  bool checked = (type != PTHREAD_MUTEX_NORMAL && type != PTHREAD_MUTEX_ADAPTIVE_NP) ||
                 (kind & ROBUST);
  if (checked && (word(m).load(std::memory_order_relaxed) == 0 || !is_owner(m, kind)))
    return EPERM;
  if (kind & ROBUST) {
    bool inconsistent = rstate(m).load(std::memory_order_relaxed) == INCONSISTENT;
    if (type == PTHREAD_MUTEX_RECURSIVE && m->__data.__count > 0) {
      m->__data.__count--;
      return inconsistent ? ENOTRECOVERABLE : 0;
    }
    robust_unlink(m);
    // Unlocked without pthread_mutex_consistent: unusable from now on.
    if (inconsistent) rstate(m).store(NOTRECOVERABLE, std::memory_order_relaxed);
  } else if (type == PTHREAD_MUTEX_RECURSIVE && m->__data.__count > 0) {
    m->__data.__count--;
    return 0;
  }
  m->__data.__owner = 0;
  *release = true;
  return 0;
}

void mutex_unlock_finish(void* mp) {
  auto* m = static_cast<pthread_mutex_t*>(mp);
  int kind = m->__data.__kind;
  // While the word is held, only its holder's unlock makes it unusable.
  release(m, kind,
          (kind & ROBUST) && rstate(m).load(std::memory_order_relaxed) == NOTRECOVERABLE);
}

const void* mutex_requeue_key(const pthread_mutex_t* m) {
  if (m->__data.__kind & (PSHARED | ~KNOWN_BITS)) return nullptr;  // kernel futex / not a mutex
  return &m->__data.__lock;  // where lock_slow parks (wait_word key)
}

// QUEUED goes first (seq_cst, as the word's accesses here and the unlock's
// exchange and read of the mark): an unlock that stores 0 after we saw
// the word held then sees QUEUED, and wakes (wake_one). If the word was 0
// by then, QUEUED stays set for nothing until an unlock finds nobody.
bool mutex_mark_contended(const void* key, const void*) {
  auto* m = static_cast<pthread_mutex_t*>(const_cast<void*>(key));  // &__lock, its first field
  auto& w = word(m);
  if (w.load(std::memory_order_relaxed) == 0) return false;  // free: retry at once
  woken(m).fetch_or(QUEUED, std::memory_order_seq_cst);  // the caller or requeue's waiters
  int c = w.load(std::memory_order_seq_cst);
  while (c != 0)
    if (c == 2 || w.compare_exchange_weak(c, 2, std::memory_order_seq_cst)) return true;
  return false;
}

int mutex_lock_requeued(pthread_mutex_t* m) {
  return lock_full(m, nullptr, CLOCK_REALTIME, false, true);
}

int mutex_consistent(pthread_mutex_t* m) {
  if (!(m->__data.__kind & ROBUST) || rstate(m).load(std::memory_order_relaxed) != INCONSISTENT)
    return EINVAL;
  rstate(m).store(ROBUST_OK, std::memory_order_relaxed);
  return 0;
}

int mutex_getprioceiling(const pthread_mutex_t* m, int* ceiling) {
  if (!(m->__data.__kind & PRIO_PROTECT)) return EINVAL;
  *ceiling = m->__data.__spins;
  return 0;
}

// As glibc: the ceiling changes with the mutex held (taken here unless the
// caller holds it recursively).
int mutex_setprioceiling(pthread_mutex_t* m, int ceiling, int* old) {
  int kind = m->__data.__kind;
  if (!(kind & PRIO_PROTECT)) return EINVAL;
  if (ceiling < sched_get_priority_min(SCHED_FIFO) || ceiling > sched_get_priority_max(SCHED_FIFO))
    return EINVAL;
  int type = kind & KIND_MASK;
  bool held = word(m).load(std::memory_order_relaxed) != 0 && is_owner(m, kind);
  if (held && type == PTHREAD_MUTEX_ERRORCHECK) return EDEADLK;
  bool take = !(held && type == PTHREAD_MUTEX_RECURSIVE);
  if (take) {
    int r = mutex_lock(m, nullptr, CLOCK_REALTIME);
    if (r && r != EOWNERDEAD) return r;
  }
  if (old) *old = m->__data.__spins;
  m->__data.__spins = (short)ceiling;
  if (take) mutex_unlock(m);
  return 0;
}

void robust_owner_exit() {
  while (pthread_mutex_t* m = tls_robust_head) {
    robust_unlink(m);
    int kind = m->__data.__kind;
    m->__data.__count = 0;
    m->__data.__owner = 0;
    rstate(m).store(OWNER_DIED, std::memory_order_relaxed);
    release(m, kind, false);
  }
}

}  // namespace green
