// pthread read-write locks. State lives in the caller's pthread_rwlock_t
// (glibc's field names, our meaning; the static initialisers are all zero
// but __flags):
//   __readers        state: bit 0 write-locked, bits 1..31 reader count
//   __writers        writers waiting (counted before they sleep)
//   __wrphase_futex  readers waiting (counted before they sleep)
//   __writers_futex  key on which private writers park (readers: __wrphase_futex)
//   __cur_writer     the writer's identity (EDEADLK checks, dumps)
//   __pad3, __pad4   process-shared: the writer's pid and identity as one
//                    64-bit word, written and compared at once (a thread of
//                    the other process has the same identity numbers)
//   __shared         nonzero: process-shared (128, glibc's FUTEX_SHARED)
//   __flags          kind: PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP
//                    makes new readers wait behind waiting writers; every
//                    other kind prefers readers, as glibc (so a thread may
//                    take a read lock it already holds)
//
// No lost wake-ups: a waiter counts itself, then sleeps only while state is
// still the value it saw blocked (validated under the bucket lock, or by
// the kernel); whoever changes state reads the counts afterwards (both
// sequentially consistent), so either it sees the waiter and wakes it, or
// the waiter sees the new state. Unlocking a writer wakes every reader and
// one writer; the last reader out wakes one writer; a waiting writer that
// gives up wakes the readers that were queued behind it.
// Process-shared locks wait in the kernel on the state word and every wake
// is a wake-all (wait.h).
#include <errno.h>
#include <stddef.h>

#include "internal.h"
#include "os.h"
#include "sync.h"
#include "wait.h"

namespace green {

namespace {

constexpr uint32_t WRITER = 1, READER = 2;
constexpr uint32_t MAX_READERS = 0x7fffffff;

struct rw {
  pthread_rwlock_t* l;
  std::atomic<uint32_t>& state() { return at(&l->__data.__readers); }
  std::atomic<uint32_t>& wwait() { return at(&l->__data.__writers); }
  std::atomic<uint32_t>& rwait() { return at(&l->__data.__wrphase_futex); }
  const void* rkey() { return &l->__data.__wrphase_futex; }
  const void* wkey() { return &l->__data.__writers_futex; }
  std::atomic<int>& cur_writer() { return *reinterpret_cast<std::atomic<int>*>(&l->__data.__cur_writer); }
  std::atomic<uint64_t>& shared_writer() {
    static_assert(offsetof(pthread_rwlock_t, __data.__pad3) % 8 == 0 &&
                      offsetof(pthread_rwlock_t, __data.__pad4) ==
                          offsetof(pthread_rwlock_t, __data.__pad3) + 4,
                  "__pad3 and __pad4 make one aligned 64-bit word");
    return *reinterpret_cast<std::atomic<uint64_t>*>(reinterpret_cast<char*>(l) +
                                                     offsetof(pthread_rwlock_t, __data.__pad3));
  }
  bool shared() { return l->__data.__shared != 0; }
  bool prefer_writer() { return l->__data.__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP; }
  static std::atomic<uint32_t>& at(unsigned* p) { return *reinterpret_cast<std::atomic<uint32_t>*>(p); }

  // Sleep while state == s; key: which queue (private only).
  int wait(const void* key, uint32_t s, int64_t deadline, clockid_t clock) {
    wait_on why{key == rkey() ? wait_kind::rwlock_read : wait_kind::rwlock_write, l};
    return wait_word(key, &state(), s, deadline, clock, shared(), why);
  }
  void wake_readers() { wake_word(rkey(), &state(), true, shared()); }
  void wake_writer() { wake_word(wkey(), &state(), shared(), shared()); }
};

// The writer's identity is read by threads that do not hold the lock (is
// it me?), as glibc does: relaxed atomic accesses, never a plain race.
bool is_writer(rw& r) {
  if (r.shared()) return r.shared_writer().load(std::memory_order_relaxed) == owner_pshared(owner_self());
  return r.cur_writer().load(std::memory_order_relaxed) == owner_self();
}

bool reader_blocked(rw& r, uint32_t s) {
  return (s & WRITER) || (r.prefer_writer() && r.wwait().load(std::memory_order_seq_cst) > 0);
}

}  // namespace

int rwlock_init(pthread_rwlock_t* l, int kind, bool pshared) {
  *l = pthread_rwlock_t{};
  l->__data.__flags = (unsigned)kind;
  l->__data.__shared = pshared ? 128 : 0;
  return 0;
}

int rwlock_destroy(pthread_rwlock_t*) { return 0; }  // as glibc: nothing to check

int rwlock_rdlock(pthread_rwlock_t* l, const struct timespec* abstime, clockid_t clock,
                  bool try_only) {
  rw r{l};
  int64_t deadline = 0;
  if (abstime) {  // as glibc: checked before anything else
    int e = deadline_from(abstime, &deadline);
    if (e) return e;
  }
  uint32_t s = r.state().load(std::memory_order_relaxed);
  if ((s & WRITER) && is_writer(r)) return try_only ? EBUSY : EDEADLK;
  for (;;) {
    if (!reader_blocked(r, s)) {
      if ((s >> 1) == MAX_READERS) return EAGAIN;
      if (r.state().compare_exchange_weak(s, s + READER, std::memory_order_acquire)) return 0;
      continue;
    }
    if (try_only) return EBUSY;
    r.rwait().fetch_add(1, std::memory_order_seq_cst);
    s = r.state().load(std::memory_order_seq_cst);
    int e = reader_blocked(r, s) ? r.wait(r.rkey(), s, deadline, clock) : 0;
    r.rwait().fetch_sub(1, std::memory_order_relaxed);
    if (e == ETIMEDOUT) return ETIMEDOUT;
    s = r.state().load(std::memory_order_relaxed);
  }
}

int rwlock_wrlock(pthread_rwlock_t* l, const struct timespec* abstime, clockid_t clock,
                  bool try_only) {
  rw r{l};
  int64_t deadline = 0;
  if (abstime) {
    int e = deadline_from(abstime, &deadline);
    if (e) return e;
  }
  uint32_t s = r.state().load(std::memory_order_relaxed);
  if ((s & WRITER) && is_writer(r)) return try_only ? EBUSY : EDEADLK;
  for (;;) {
    if (s == 0) {
      if (r.state().compare_exchange_weak(s, WRITER, std::memory_order_acquire)) {
        r.cur_writer().store(owner_self(), std::memory_order_relaxed);
        if (r.shared()) r.shared_writer().store(owner_pshared(owner_self()), std::memory_order_relaxed);
        return 0;
      }
      continue;
    }
    if (try_only) return EBUSY;
    r.wwait().fetch_add(1, std::memory_order_seq_cst);
    s = r.state().load(std::memory_order_seq_cst);
    int e = s != 0 ? r.wait(r.wkey(), s, deadline, clock) : 0;
    uint32_t left = r.wwait().fetch_sub(1, std::memory_order_seq_cst) - 1;
    if (e == ETIMEDOUT) {
      // Readers may be queued only because we were waiting.
      if (left == 0 && r.prefer_writer() && r.rwait().load(std::memory_order_seq_cst) > 0)
        r.wake_readers();
      return ETIMEDOUT;
    }
    s = r.state().load(std::memory_order_relaxed);
  }
}

int rwlock_unlock(pthread_rwlock_t* l) {
  rw r{l};
  uint32_t s = r.state().load(std::memory_order_relaxed);
  if (s & WRITER) {
    // glibc would treat this as a read unlock and corrupt the lock.
    if (!is_writer(r)) return EPERM;
    r.cur_writer().store(0, std::memory_order_relaxed);
    if (r.shared()) r.shared_writer().store(0, std::memory_order_relaxed);
    r.state().store(0, std::memory_order_seq_cst);
    uint32_t nw = r.wwait().load(std::memory_order_seq_cst);
    if (r.rwait().load(std::memory_order_seq_cst) > 0 && !(r.prefer_writer() && nw > 0))
      r.wake_readers();
    if (nw > 0) r.wake_writer();
    return 0;
  }
  if (s == 0) return EPERM;  // not locked at all (glibc: undefined)
  s = r.state().fetch_sub(READER, std::memory_order_seq_cst) - READER;
  if (s == 0 && r.wwait().load(std::memory_order_seq_cst) > 0) r.wake_writer();
  return 0;
}

}  // namespace green
