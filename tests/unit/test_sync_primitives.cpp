// The synchronisation family through core's API (core/sync.h) on Gs:
// mutex kinds and error paths, robust owner death, rwlock, barrier, spin
// lock, semaphore and condvar timeouts, all under the scheduler.
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>

#include <atomic>
#include <vector>

#include "internal.h"
#include "os.h"
#include "sync.h"

using namespace green;

static void start_runtime() {
  config cfg;
  cfg.procs = 2;
  cfg.stack_size = 256 << 10;
  cfg.os_thread_create = pthread_create;
  cr_assert_eq(start(cfg), 0);
}
TestSuite(sync, .init = start_runtime);

static pthread_t spawn(void* (*fn)(void*), void* arg) {
  pthread_t t;
  cr_assert_eq(thread_create(&t, thread_attr{}, fn, arg), 0);
  return t;
}
static void* join(pthread_t t) {
  void* r = nullptr;
  cr_assert_eq(thread_join(t, &r, nullptr, CLOCK_REALTIME, false), 0);
  return r;
}
static struct timespec in_ms(clockid_t c, long ms) {
  int64_t ns = os::now_ns(c) + ms * 1000000;
  return {(time_t)(ns / 1000000000), (long)(ns % 1000000000)};
}
static int64_t ns_of(const struct timespec& t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

// ---- mutex kinds and errors ----
static void* unlock_other(void* m) { return (void*)(long)mutex_unlock((pthread_mutex_t*)m); }
static void* lock_and_end(void* m) {
  mutex_lock((pthread_mutex_t*)m, nullptr, CLOCK_REALTIME);
  return nullptr;
}

static void* mutex_errors(void*) {
  pthread_mutex_t e;
  mutex_attr a;
  a.type = PTHREAD_MUTEX_ERRORCHECK;
  cr_expect_eq(mutex_init(&e, a), 0);
  cr_expect_eq(mutex_unlock(&e), EPERM);
  cr_expect_eq(mutex_lock(&e, nullptr, CLOCK_REALTIME), 0);
  cr_expect_eq(mutex_lock(&e, nullptr, CLOCK_REALTIME), EDEADLK);
  cr_expect_eq(mutex_trylock(&e), EBUSY);
  cr_expect_eq((long)join(spawn(unlock_other, &e)), EPERM);
  cr_expect_eq(mutex_destroy(&e), EBUSY);
  cr_expect_eq(mutex_unlock(&e), 0);
  cr_expect_eq(mutex_destroy(&e), 0);
  cr_expect_eq(mutex_lock(&e, nullptr, CLOCK_REALTIME), EINVAL, "destroyed");

  pthread_mutex_t r = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
  for (int i = 0; i < 3; i++) cr_expect_eq(mutex_lock(&r, nullptr, CLOCK_REALTIME), 0);
  cr_expect_eq((long)join(spawn(unlock_other, &r)), EPERM);
  for (int i = 0; i < 3; i++) cr_expect_eq(mutex_unlock(&r), 0);
  cr_expect_eq(mutex_unlock(&r), EPERM);

  pthread_mutex_t n = PTHREAD_MUTEX_INITIALIZER;
  cr_expect_eq(mutex_lock(&n, nullptr, CLOCK_REALTIME), 0);
  struct timespec t = in_ms(CLOCK_MONOTONIC, 20);
  cr_expect_eq(mutex_lock(&n, &t, CLOCK_MONOTONIC), ETIMEDOUT);
  cr_expect_geq(os::now_ns(CLOCK_MONOTONIC), ns_of(t), "never early");
  struct timespec bad = {0, 1000000000};
  cr_expect_eq(mutex_lock(&n, &bad, CLOCK_REALTIME), EINVAL);
  cr_expect_eq(mutex_unlock(&n), 0);

  a.type = PTHREAD_MUTEX_NORMAL;
  a.protocol = PTHREAD_PRIO_PROTECT;
  a.ceiling = 10;
  pthread_mutex_t pp;
  cr_expect_eq(mutex_init(&pp, a), 0);
  int c = 0, old = 0;
  cr_expect_eq(mutex_getprioceiling(&pp, &c), 0);
  cr_expect_eq(c, 10);
  cr_expect_eq(mutex_setprioceiling(&pp, 30, &old), 0);
  cr_expect_eq(old, 10);
  cr_expect_eq(mutex_setprioceiling(&pp, 1000, &old), EINVAL);
  cr_expect_eq(mutex_lock(&pp, nullptr, CLOCK_REALTIME), 0, "PRIO_PROTECT locks like a normal mutex");
  cr_expect_eq(mutex_unlock(&pp), 0);
  cr_expect_eq(mutex_getprioceiling(&n, &c), EINVAL);
  return nullptr;
}
Test(sync, mutex_kinds_and_errors) { cr_assert_eq(run(mutex_errors, nullptr, nullptr), 0); }

static void* robust_cycle(void*) {
  mutex_attr a;
  a.robust = true;
  pthread_mutex_t m;
  cr_expect_eq(mutex_init(&m, a), 0);
  cr_expect_eq(mutex_consistent(&m), EINVAL);
  join(spawn(lock_and_end, &m));
  cr_expect_eq(mutex_lock(&m, nullptr, CLOCK_REALTIME), EOWNERDEAD);
  cr_expect_eq(mutex_consistent(&m), 0);
  cr_expect_eq(mutex_unlock(&m), 0);
  cr_expect_eq(mutex_lock(&m, nullptr, CLOCK_REALTIME), 0);
  cr_expect_eq(mutex_unlock(&m), 0);
  join(spawn(lock_and_end, &m));
  cr_expect_eq(mutex_trylock(&m), EOWNERDEAD);
  cr_expect_eq(mutex_unlock(&m), 0, "unlocked without consistent");
  cr_expect_eq(mutex_lock(&m, nullptr, CLOCK_REALTIME), ENOTRECOVERABLE);
  cr_expect_eq(mutex_trylock(&m), ENOTRECOVERABLE);
  return nullptr;
}
Test(sync, robust_owner_death_and_recovery) { cr_assert_eq(run(robust_cycle, nullptr, nullptr), 0); }

// A waiter parked on a robust mutex is woken by its owner's death.
static pthread_mutex_t robust_m;
static std::atomic<int> robust_phase{0};
static void* hold_then_end(void*) {
  mutex_lock(&robust_m, nullptr, CLOCK_REALTIME);
  robust_phase = 1;
  while (robust_phase.load() != 2) yield();
  return nullptr;
}
static void* waiter_sees_death(void*) {
  mutex_attr a;
  a.robust = true;
  mutex_init(&robust_m, a);
  pthread_t h = spawn(hold_then_end, nullptr);
  while (robust_phase.load() != 1) yield();
  pthread_t w = spawn([](void*) -> void* {
    return (void*)(long)mutex_lock(&robust_m, nullptr, CLOCK_REALTIME);
  }, nullptr);
  for (int i = 0; i < 100; i++) yield();  // let it park
  robust_phase = 2;
  join(h);
  cr_expect_eq((long)join(w), EOWNERDEAD);
  return nullptr;
}
Test(sync, robust_waiter_woken_by_owner_death) {
  cr_assert_eq(run(waiter_sees_death, nullptr, nullptr), 0);
}

// ---- rwlock ----
static pthread_rwlock_t rwl;
static std::atomic<int> readers_in{0}, writers_in{0}, rw_bad{0};
static void* rw_worker(void* arg) {
  long id = (long)arg;
  for (int i = 0; i < 2000; i++) {
    if ((id + i) % 5 == 0) {
      cr_expect_eq(rwlock_wrlock(&rwl, nullptr, CLOCK_REALTIME, false), 0);
      if (writers_in.fetch_add(1) != 0 || readers_in.load() != 0) rw_bad++;
      yield();
      writers_in.fetch_sub(1);
    } else {
      cr_expect_eq(rwlock_rdlock(&rwl, nullptr, CLOCK_REALTIME, false), 0);
      readers_in.fetch_add(1);
      if (writers_in.load() != 0) rw_bad++;
      yield();
      readers_in.fetch_sub(1);
    }
    cr_expect_eq(rwlock_unlock(&rwl), 0);
  }
  return nullptr;
}
static void* rw_test(void*) {
  for (int kind : {PTHREAD_RWLOCK_PREFER_READER_NP, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP}) {
    rwlock_init(&rwl, kind, false);
    std::vector<pthread_t> ts;
    for (long i = 0; i < 32; i++) ts.push_back(spawn(rw_worker, (void*)i));
    for (auto t : ts) join(t);
    cr_expect_eq(rw_bad.load(), 0, "kind %d: a reader overlapped a writer", kind);
  }
  pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
  cr_expect_eq(rwlock_unlock(&l), EPERM);
  cr_expect_eq(rwlock_wrlock(&l, nullptr, CLOCK_REALTIME, false), 0);
  cr_expect_eq(rwlock_wrlock(&l, nullptr, CLOCK_REALTIME, false), EDEADLK);
  cr_expect_eq(rwlock_rdlock(&l, nullptr, CLOCK_REALTIME, false), EDEADLK);
  cr_expect_eq(rwlock_rdlock(&l, nullptr, CLOCK_REALTIME, true), EBUSY);
  pthread_t other = spawn([](void* p) -> void* {
    auto* l = (pthread_rwlock_t*)p;
    struct timespec t = in_ms(CLOCK_REALTIME, 20);
    int r = rwlock_rdlock(l, &t, CLOCK_REALTIME, false);
    cr_expect_geq(os::now_ns(CLOCK_REALTIME), ns_of(t), "never early");
    if (rwlock_unlock(l) != EPERM) return (void*)-1L;  // not ours to unlock
    return (void*)(long)r;
  }, &l);
  cr_expect_eq((long)join(other), ETIMEDOUT);
  cr_expect_eq(rwlock_unlock(&l), 0);
  // reader-count overflow, set up directly in the state word
  l.__data.__readers = 0x7fffffffu << 1;
  cr_expect_eq(rwlock_rdlock(&l, nullptr, CLOCK_REALTIME, false), EAGAIN);
  cr_expect_eq(rwlock_rdlock(&l, nullptr, CLOCK_REALTIME, true), EAGAIN);
  return nullptr;
}
Test(sync, rwlock_exclusion_and_errors) { cr_assert_eq(run(rw_test, nullptr, nullptr), 0); }

// ---- barrier ----
static pthread_barrier_t bar;
static std::atomic<int> serials{0}, round_seen[16];
static void* bar_worker(void* arg) {
  long me = (long)arg;
  for (int r = 0; r < 500; r++) {
    round_seen[me] = r;
    if (barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD) serials++;
    for (auto& s : round_seen) cr_expect_geq(s.load(), r);
    barrier_wait(&bar);
  }
  return nullptr;
}
static void* bar_test(void*) {
  pthread_barrier_t b;
  cr_expect_eq(barrier_init(&b, 0, false), EINVAL);
  cr_expect_eq(barrier_init(&bar, 16, false), 0);
  std::vector<pthread_t> ts;
  for (long i = 0; i < 16; i++) ts.push_back(spawn(bar_worker, (void*)i));
  for (auto t : ts) join(t);
  cr_expect_eq(serials.load(), 500, "exactly one serial thread per round");
  cr_expect_eq(barrier_destroy(&bar), 0);
  return nullptr;
}
Test(sync, barrier_generations_in_step) { cr_assert_eq(run(bar_test, nullptr, nullptr), 0); }

// ---- spin lock on one P: waiters must yield to the holder ----
static pthread_spinlock_t spin;
static long spin_count;
static void* spin_worker(void*) {
  for (int i = 0; i < 5000; i++) {
    spin_lock(&spin);
    long c = spin_count;
    if (i % 100 == 0) yield();  // switched out while holding it
    spin_count = c + 1;
    spin_unlock(&spin);
  }
  return nullptr;
}
static void* spin_test(void*) {
  std::vector<pthread_t> ts;
  for (int i = 0; i < 16; i++) ts.push_back(spawn(spin_worker, nullptr));
  for (auto t : ts) join(t);
  cr_expect_eq(spin_count, 16 * 5000);
  cr_expect_eq(spin_trylock(&spin), 0);
  cr_expect_eq(spin_trylock(&spin), EBUSY);
  cr_expect_eq(spin_unlock(&spin), 0);
  return nullptr;
}
Test(sync, spin_lock_yields_to_holder) { cr_assert_eq(run(spin_test, nullptr, nullptr), 0); }

// ---- semaphore ----
static sem_t sem;
static std::atomic<long> taken{0};
static void* sem_taker(void*) {
  for (int i = 0; i < 1000; i++) {
    cr_expect_eq(green::sem_wait(&sem, nullptr, CLOCK_REALTIME, false), 0);
    taken++;
  }
  return nullptr;
}
static void* sem_test(void*) {
  cr_expect_eq(green::sem_init(&sem, false, 0), 0);
  std::vector<pthread_t> ts;
  for (int i = 0; i < 8; i++) ts.push_back(spawn(sem_taker, nullptr));
  for (int i = 0; i < 8000; i++) {
    cr_expect_eq(green::sem_post(&sem), 0);
    if (i % 16 == 0) yield();
  }
  for (auto t : ts) join(t);
  cr_expect_eq(taken.load(), 8000);
  int v = -1;
  green::sem_getvalue(&sem, &v);
  cr_expect_eq(v, 0);
  cr_expect_eq(green::sem_wait(&sem, nullptr, CLOCK_REALTIME, true), EAGAIN);
  struct timespec t = in_ms(CLOCK_MONOTONIC, 20);
  cr_expect_eq(green::sem_wait(&sem, &t, CLOCK_MONOTONIC, false), ETIMEDOUT);
  cr_expect_geq(os::now_ns(CLOCK_MONOTONIC), ns_of(t), "never early");
  struct timespec bad = {0, -1};
  cr_expect_eq(green::sem_wait(&sem, &bad, CLOCK_MONOTONIC, false), EINVAL);
  cr_expect_eq(green::sem_init(&sem, false, SEM_VALUE_MAX), 0);
  cr_expect_eq(green::sem_post(&sem), EOVERFLOW);
  cr_expect_eq(green::sem_init(&sem, false, (unsigned)SEM_VALUE_MAX + 1), EINVAL);
  return nullptr;
}
Test(sync, semaphore_counts_balance) { cr_assert_eq(run(sem_test, nullptr, nullptr), 0); }

// ---- condvar: broadcast wakes every waiter; timeouts on both clocks ----
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cc = PTHREAD_COND_INITIALIZER;
static int go, cwoken;
static void* cond_waiter(void*) {
  mutex_lock(&cm, nullptr, CLOCK_REALTIME);
  while (!go) cond_wait(&cc, &cm, nullptr, false, CLOCK_REALTIME);
  cwoken++;
  mutex_unlock(&cm);
  return nullptr;
}
static void* cond_test(void*) {
  std::vector<pthread_t> ts;
  for (int i = 0; i < 1000; i++) ts.push_back(spawn(cond_waiter, nullptr));
  for (int i = 0; i < 100; i++) yield();
  mutex_lock(&cm, nullptr, CLOCK_REALTIME);
  go = 1;
  cond_broadcast(&cc);
  mutex_unlock(&cm);
  for (auto t : ts) join(t);
  cr_expect_eq(cwoken, 1000);
  mutex_lock(&cm, nullptr, CLOCK_REALTIME);
  for (clockid_t c : {CLOCK_REALTIME, CLOCK_MONOTONIC}) {
    struct timespec t = in_ms(c, 20);
    cr_expect_eq(cond_wait(&cc, &cm, &t, true, c), ETIMEDOUT);
    cr_expect_geq(os::now_ns(c), ns_of(t), "never early");
  }
  cr_expect_eq(mutex_trylock(&cm), EBUSY, "held again after the timeout");
  mutex_unlock(&cm);
  cr_expect_eq(cond_destroy(&cc), 0);
  return nullptr;
}
Test(sync, cond_broadcast_and_timeouts) { cr_assert_eq(run(cond_test, nullptr, nullptr), 0); }
