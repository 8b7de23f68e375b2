/* errors: every error path of the pthread synchronisation family, as glibc
 * reports it: EDEADLK, EPERM, EBUSY, EINVAL, ETIMEDOUT, EAGAIN, EOVERFLOW,
 * EOWNERDEAD, ENOTRECOVERABLE; timed waits never return early. */
#define _GNU_SOURCE
#include <limits.h>
#include <semaphore.h>

#include "common.h"

static const struct timespec bad_nsec = {0, 1000000000L};
static const struct timespec past = {-1, 0};

static void* lock_and_return(void* m) {
  pthread_mutex_lock(m);
  return NULL; /* ends holding it */
}

static void* trylock_other(void* m) { return (void*)(long)pthread_mutex_trylock(m); }
static void* unlock_other(void* m) { return (void*)(long)pthread_mutex_unlock(m); }
static void* rw_unlock_other(void* l) { return (void*)(long)pthread_rwlock_unlock(l); }

static long run(void* (*fn)(void*), void* arg) {
  pthread_t t;
  void* r;
  if (pthread_create(&t, NULL, fn, arg) || pthread_join(t, &r)) return -1;
  return (long)r;
}

static void mutexes(void) {
  pthread_mutex_t n = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_t r = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
  pthread_mutex_t e = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
  pthread_mutex_t a = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;

  CHECK_ERR(pthread_mutex_lock(&n), 0);
  CHECK_ERR(pthread_mutex_trylock(&n), EBUSY);
  CHECK_ERR((int)run(trylock_other, &n), EBUSY);
  struct timespec t = after_ms(CLOCK_REALTIME, 30);
  CHECK_ERR(pthread_mutex_timedlock(&n, &t), ETIMEDOUT);
  CHECK(now_ns(CLOCK_REALTIME) >= ts_ns(&t));
  t = after_ms(CLOCK_MONOTONIC, 30);
  CHECK_ERR(pthread_mutex_clocklock(&n, CLOCK_MONOTONIC, &t), ETIMEDOUT);
  CHECK(now_ns(CLOCK_MONOTONIC) >= ts_ns(&t));
  CHECK_ERR(pthread_mutex_timedlock(&n, &bad_nsec), EINVAL);
  CHECK_ERR(pthread_mutex_timedlock(&n, &past), ETIMEDOUT);
  CHECK_ERR(pthread_mutex_clocklock(&n, CLOCK_PROCESS_CPUTIME_ID, &past), EINVAL);
  CHECK_ERR(pthread_mutex_destroy(&n), EBUSY);
  CHECK_ERR(pthread_mutex_unlock(&n), 0);
  CHECK_ERR(pthread_mutex_timedlock(&n, &bad_nsec), 0); /* free: not checked, as glibc */
  CHECK_ERR(pthread_mutex_unlock(&n), 0);
  CHECK_ERR(pthread_mutex_destroy(&n), 0);

  CHECK_ERR(pthread_mutex_lock(&r), 0);
  CHECK_ERR(pthread_mutex_lock(&r), 0);
  CHECK_ERR(pthread_mutex_trylock(&r), 0);
  CHECK_ERR((int)run(trylock_other, &r), EBUSY);
  CHECK_ERR((int)run(unlock_other, &r), EPERM);
  CHECK_ERR(pthread_mutex_unlock(&r), 0);
  CHECK_ERR(pthread_mutex_unlock(&r), 0);
  CHECK_ERR(pthread_mutex_unlock(&r), 0);
  CHECK_ERR(pthread_mutex_unlock(&r), EPERM);

  CHECK_ERR(pthread_mutex_unlock(&e), EPERM);
  CHECK_ERR(pthread_mutex_lock(&e), 0);
  CHECK_ERR(pthread_mutex_lock(&e), EDEADLK);
  CHECK_ERR(pthread_mutex_trylock(&e), EBUSY);
  t = after_ms(CLOCK_REALTIME, 10);
  CHECK_ERR(pthread_mutex_timedlock(&e, &t), EDEADLK);
  CHECK_ERR((int)run(unlock_other, &e), EPERM);
  CHECK_ERR(pthread_mutex_unlock(&e), 0);

  CHECK_ERR(pthread_mutex_lock(&a), 0);
  CHECK_ERR(pthread_mutex_trylock(&a), EBUSY);
  CHECK_ERR(pthread_mutex_unlock(&a), 0);

  /* attribute-made kinds */
  pthread_mutexattr_t at;
  pthread_mutexattr_init(&at);
  pthread_mutexattr_settype(&at, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_t e2;
  CHECK_ERR(pthread_mutex_init(&e2, &at), 0);
  CHECK_ERR(pthread_mutex_lock(&e2), 0);
  CHECK_ERR(pthread_mutex_lock(&e2), EDEADLK);
  CHECK_ERR(pthread_mutex_unlock(&e2), 0);
  CHECK_ERR(pthread_mutex_consistent(&e2), EINVAL); /* not robust */

  /* priority protocols: accepted; the ceiling is kept as glibc keeps it */
  pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_PROTECT);
  pthread_mutexattr_setprioceiling(&at, 10);
  pthread_mutex_t pp;
  CHECK_ERR(pthread_mutex_init(&pp, &at), 0);
  int c = -1, old = -1;
  CHECK_ERR(pthread_mutex_getprioceiling(&pp, &c), 0);
  CHECK(c == 10);
  CHECK_ERR(pthread_mutex_setprioceiling(&pp, 20, &old), 0);
  CHECK(old == 10);
  CHECK_ERR(pthread_mutex_getprioceiling(&pp, &c), 0);
  CHECK(c == 20);
  CHECK_ERR(pthread_mutex_setprioceiling(&pp, 0, &old), EINVAL);
  CHECK_ERR(pthread_mutex_getprioceiling(&e2, &c), EINVAL); /* not PRIO_PROTECT */
  pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT);
  pthread_mutex_t pi;
  CHECK_ERR(pthread_mutex_init(&pi, &at), 0);
  CHECK_ERR(pthread_mutex_lock(&pi), 0);
  CHECK_ERR(pthread_mutex_lock(&pi), EDEADLK);
  CHECK_ERR(pthread_mutex_unlock(&pi), 0);
  CHECK_ERR(pthread_mutex_unlock(&pi), EPERM);
  pthread_mutexattr_destroy(&at);
}

static void robust(void) {
  pthread_mutexattr_t at;
  pthread_mutexattr_init(&at);
  pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_t m;
  CHECK_ERR(pthread_mutex_init(&m, &at), 0);
  CHECK_ERR(pthread_mutex_unlock(&m), EPERM);
  CHECK_ERR(pthread_mutex_consistent(&m), EINVAL);
  /* owner ends holding it: next locker gets EOWNERDEAD, then recovers */
  run(lock_and_return, &m);
  CHECK_ERR(pthread_mutex_lock(&m), EOWNERDEAD);
  CHECK_ERR(pthread_mutex_consistent(&m), 0);
  CHECK_ERR(pthread_mutex_unlock(&m), 0);
  CHECK_ERR(pthread_mutex_lock(&m), 0);
  CHECK_ERR(pthread_mutex_unlock(&m), 0);
  /* trylock sees it too; unlocking without consistent: ENOTRECOVERABLE */
  run(lock_and_return, &m);
  CHECK_ERR(pthread_mutex_trylock(&m), EOWNERDEAD);
  CHECK_ERR(pthread_mutex_unlock(&m), 0);
  CHECK_ERR(pthread_mutex_lock(&m), ENOTRECOVERABLE);
  CHECK_ERR(pthread_mutex_trylock(&m), ENOTRECOVERABLE);
  CHECK_ERR(pthread_mutex_destroy(&m), 0);
  /* robust error-checking: EDEADLK on relock, also from trylock */
  pthread_mutexattr_settype(&at, PTHREAD_MUTEX_ERRORCHECK);
  CHECK_ERR(pthread_mutex_init(&m, &at), 0);
  CHECK_ERR(pthread_mutex_lock(&m), 0);
  CHECK_ERR(pthread_mutex_lock(&m), EDEADLK);
  CHECK_ERR(pthread_mutex_trylock(&m), EDEADLK);
  CHECK_ERR((int)run(unlock_other, &m), EPERM);
  CHECK_ERR(pthread_mutex_unlock(&m), 0);
  /* robust recursive: timed lock after the owner died */
  pthread_mutexattr_settype(&at, PTHREAD_MUTEX_RECURSIVE);
  CHECK_ERR(pthread_mutex_init(&m, &at), 0);
  run(lock_and_return, &m);
  struct timespec t = after_ms(CLOCK_REALTIME, 1000);
  CHECK_ERR(pthread_mutex_timedlock(&m, &t), EOWNERDEAD);
  CHECK_ERR(pthread_mutex_lock(&m), 0);
  CHECK_ERR(pthread_mutex_consistent(&m), 0);
  CHECK_ERR(pthread_mutex_unlock(&m), 0);
  CHECK_ERR(pthread_mutex_unlock(&m), 0);
  CHECK_ERR(pthread_mutex_unlock(&m), EPERM);
  pthread_mutexattr_destroy(&at);
}

static void conds(void) {
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  pthread_mutex_t e = PTHREAD_ERRORCHECK_MUTEX_INITIALIZER_NP;
  pthread_cond_t c = PTHREAD_COND_INITIALIZER;
  pthread_mutex_lock(&m);
  struct timespec t = after_ms(CLOCK_REALTIME, 30);
  CHECK_ERR(pthread_cond_timedwait(&c, &m, &t), ETIMEDOUT);
  CHECK(now_ns(CLOCK_REALTIME) >= ts_ns(&t));
  t = after_ms(CLOCK_MONOTONIC, 30);
  CHECK_ERR(pthread_cond_clockwait(&c, &m, CLOCK_MONOTONIC, &t), ETIMEDOUT);
  CHECK(now_ns(CLOCK_MONOTONIC) >= ts_ns(&t));
  CHECK_ERR(pthread_cond_clockwait(&c, &m, CLOCK_PROCESS_CPUTIME_ID, &t), EINVAL);
  CHECK_ERR(pthread_cond_timedwait(&c, &m, &bad_nsec), EINVAL);
  CHECK_ERR(pthread_cond_timedwait(&c, &m, &past), ETIMEDOUT);
  /* the mutex is held again after every return */
  CHECK_ERR(pthread_mutex_trylock(&m), EBUSY);
  pthread_mutex_unlock(&m);
  /* a condvar whose clock is MONOTONIC */
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  CHECK_ERR(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
  pthread_cond_t cm;
  CHECK_ERR(pthread_cond_init(&cm, &ca), 0);
  pthread_mutex_lock(&m);
  t = after_ms(CLOCK_MONOTONIC, 30);
  CHECK_ERR(pthread_cond_timedwait(&cm, &m, &t), ETIMEDOUT);
  CHECK(now_ns(CLOCK_MONOTONIC) >= ts_ns(&t));
  pthread_mutex_unlock(&m);
  CHECK_ERR(pthread_cond_destroy(&cm), 0);
  /* waiting with an error-checking mutex one does not hold */
  CHECK_ERR(pthread_cond_wait(&c, &e), EPERM);
  CHECK_ERR(pthread_cond_signal(&c), 0);
  CHECK_ERR(pthread_cond_broadcast(&c), 0);
  CHECK_ERR(pthread_cond_destroy(&c), 0);
}

static void rwlocks(void) {
  pthread_rwlock_t l = PTHREAD_RWLOCK_INITIALIZER;
  CHECK_ERR(pthread_rwlock_rdlock(&l), 0);
  CHECK_ERR(pthread_rwlock_rdlock(&l), 0); /* recursive read */
  CHECK_ERR(pthread_rwlock_tryrdlock(&l), 0);
  CHECK_ERR(pthread_rwlock_trywrlock(&l), EBUSY);
  struct timespec t = after_ms(CLOCK_REALTIME, 30);
  CHECK_ERR(pthread_rwlock_timedwrlock(&l, &t), ETIMEDOUT);
  CHECK(now_ns(CLOCK_REALTIME) >= ts_ns(&t));
  t = after_ms(CLOCK_MONOTONIC, 30);
  CHECK_ERR(pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &t), ETIMEDOUT);
  CHECK(now_ns(CLOCK_MONOTONIC) >= ts_ns(&t));
  CHECK_ERR(pthread_rwlock_unlock(&l), 0);
  CHECK_ERR(pthread_rwlock_unlock(&l), 0);
  CHECK_ERR(pthread_rwlock_unlock(&l), 0);
  CHECK_ERR(pthread_rwlock_wrlock(&l), 0);
  CHECK_ERR(pthread_rwlock_wrlock(&l), EDEADLK);
  CHECK_ERR(pthread_rwlock_rdlock(&l), EDEADLK);
  CHECK_ERR(pthread_rwlock_tryrdlock(&l), EBUSY);
  CHECK_ERR(pthread_rwlock_trywrlock(&l), EBUSY);
  t = after_ms(CLOCK_REALTIME, 10);
  CHECK_ERR(pthread_rwlock_timedrdlock(&l, &t), EDEADLK);
  CHECK_ERR(pthread_rwlock_timedrdlock(&l, &bad_nsec), EINVAL);
  CHECK_ERR(pthread_rwlock_timedwrlock(&l, &bad_nsec), EINVAL);
  CHECK_ERR(pthread_rwlock_clockrdlock(&l, CLOCK_PROCESS_CPUTIME_ID, &t), EINVAL);
  CHECK_ERR(pthread_rwlock_unlock(&l), 0);
  CHECK_ERR(pthread_rwlock_timedrdlock(&l, &past), 0); /* free: acquired */
  CHECK_ERR(pthread_rwlock_unlock(&l), 0);
  CHECK_ERR(pthread_rwlock_destroy(&l), 0);
  (void)rw_unlock_other;

  /* writer preference: a new reader waits behind a waiting writer */
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  CHECK_ERR(pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP), 0);
  CHECK_ERR(pthread_rwlockattr_setkind_np(&ra, 42), EINVAL);
  int kind = -1;
  pthread_rwlockattr_getkind_np(&ra, &kind);
  CHECK(kind == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_t w;
  CHECK_ERR(pthread_rwlock_init(&w, &ra), 0);
  CHECK_ERR(pthread_rwlock_rdlock(&w), 0);
  CHECK_ERR(pthread_rwlock_unlock(&w), 0);
  pthread_rwlockattr_destroy(&ra);
}

static void barriers_spins_sems(void) {
  pthread_barrier_t b;
  CHECK_ERR(pthread_barrier_init(&b, NULL, 0), EINVAL);
  CHECK_ERR(pthread_barrier_init(&b, NULL, 1), 0);
  CHECK_ERR(pthread_barrier_wait(&b), PTHREAD_BARRIER_SERIAL_THREAD);
  CHECK_ERR(pthread_barrier_wait(&b), PTHREAD_BARRIER_SERIAL_THREAD);
  CHECK_ERR(pthread_barrier_destroy(&b), 0);

  pthread_spinlock_t s;
  CHECK_ERR(pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE), 0);
  CHECK_ERR(pthread_spin_lock(&s), 0);
  CHECK_ERR(pthread_spin_trylock(&s), EBUSY);
  CHECK_ERR(pthread_spin_unlock(&s), 0);
  CHECK_ERR(pthread_spin_trylock(&s), 0);
  CHECK_ERR(pthread_spin_unlock(&s), 0);
  CHECK_ERR(pthread_spin_destroy(&s), 0);

  sem_t sem;
  int v = -1;
  errno = 0;
  CHECK(sem_init(&sem, 0, (unsigned)SEM_VALUE_MAX + 1u) == -1 && errno == EINVAL);
  CHECK(sem_init(&sem, 0, 1) == 0);
  CHECK(sem_getvalue(&sem, &v) == 0 && v == 1);
  CHECK(sem_trywait(&sem) == 0);
  errno = 0;
  CHECK(sem_trywait(&sem) == -1 && errno == EAGAIN);
  struct timespec t = after_ms(CLOCK_REALTIME, 30);
  errno = 0;
  CHECK(sem_timedwait(&sem, &t) == -1 && errno == ETIMEDOUT);
  CHECK(now_ns(CLOCK_REALTIME) >= ts_ns(&t));
  t = after_ms(CLOCK_MONOTONIC, 30);
  errno = 0;
  CHECK(sem_clockwait(&sem, CLOCK_MONOTONIC, &t) == -1 && errno == ETIMEDOUT);
  CHECK(now_ns(CLOCK_MONOTONIC) >= ts_ns(&t));
  errno = 0;
  CHECK(sem_timedwait(&sem, &bad_nsec) == -1 && errno == EINVAL);
  errno = 0;
  CHECK(sem_timedwait(&sem, &past) == -1 && errno == ETIMEDOUT);
  errno = 0;
  CHECK(sem_clockwait(&sem, CLOCK_PROCESS_CPUTIME_ID, &t) == -1 && errno == EINVAL);
  CHECK(sem_post(&sem) == 0);
  CHECK(sem_timedwait(&sem, &bad_nsec) == -1 && errno == EINVAL); /* checked first, as glibc */
  CHECK(sem_timedwait(&sem, &past) == 0);
  CHECK(sem_destroy(&sem) == 0);
  CHECK(sem_init(&sem, 0, SEM_VALUE_MAX) == 0);
  errno = 0;
  CHECK(sem_post(&sem) == -1 && errno == EOVERFLOW);
  CHECK(sem_getvalue(&sem, &v) == 0 && v == SEM_VALUE_MAX);
  CHECK(sem_destroy(&sem) == 0);
}

int main(void) {
  mutexes();
  robust();
  conds();
  rwlocks();
  barriers_spins_sems();
  return finish("errors");
}
