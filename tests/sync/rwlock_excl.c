/* rwlock_excl: readers never overlap a writer, writers never overlap each
 * other, readers do overlap each other; for both kinds (reader preference,
 * writer preference) and for blocking, try and timed acquisitions. Also:
 * with writer preference a waiting writer gets in while readers keep
 * coming. */
#define _GNU_SOURCE
#include "common.h"

#define READERS 16
#define WRITERS 4
#define ROUNDS 20000

static pthread_rwlock_t l;
static int readers_in, writers_in, max_readers;
static long violations, writes;

static void* reader(void* arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    int r;
    if (i % 3 == 0) {
      while ((r = pthread_rwlock_tryrdlock(&l)) == EBUSY) sched_yield();
    } else if (i % 3 == 1) {
      struct timespec t = after_ms(CLOCK_REALTIME, 1000);
      while ((r = pthread_rwlock_timedrdlock(&l, &t)) == ETIMEDOUT) t = after_ms(CLOCK_REALTIME, 1000);
    } else {
      r = pthread_rwlock_rdlock(&l);
    }
    if (r) {
      __atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
      continue;
    }
    int n = __atomic_add_fetch(&readers_in, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&writers_in, __ATOMIC_SEQ_CST)) __atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
    int m = __atomic_load_n(&max_readers, __ATOMIC_RELAXED);
    if (n > m) __atomic_compare_exchange_n(&max_readers, &m, n, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    if (i % 64 == 0) sched_yield();
    __atomic_sub_fetch(&readers_in, 1, __ATOMIC_SEQ_CST);
    pthread_rwlock_unlock(&l);
  }
  return NULL;
}

static void* writer(void* arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS / 4; i++) {
    int r;
    if (i % 2) {
      struct timespec t = after_ms(CLOCK_MONOTONIC, 1000);
      while ((r = pthread_rwlock_clockwrlock(&l, CLOCK_MONOTONIC, &t)) == ETIMEDOUT)
        t = after_ms(CLOCK_MONOTONIC, 1000);
    } else {
      r = pthread_rwlock_wrlock(&l);
    }
    if (r) {
      __atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
      continue;
    }
    if (__atomic_add_fetch(&writers_in, 1, __ATOMIC_SEQ_CST) != 1 ||
        __atomic_load_n(&readers_in, __ATOMIC_SEQ_CST))
      __atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
    writes++; /* plain: protected by the write lock */
    __atomic_sub_fetch(&writers_in, 1, __ATOMIC_SEQ_CST);
    pthread_rwlock_unlock(&l);
  }
  return NULL;
}

static void run_kind(int kind) {
  pthread_rwlockattr_t a;
  pthread_rwlockattr_init(&a);
  pthread_rwlockattr_setkind_np(&a, kind);
  pthread_rwlock_init(&l, &a);
  violations = writes = 0;
  max_readers = 0;
  pthread_t r[READERS], w[WRITERS];
  for (int i = 0; i < READERS; i++) DIE_IF(pthread_create(&r[i], NULL, reader, NULL));
  for (int i = 0; i < WRITERS; i++) DIE_IF(pthread_create(&w[i], NULL, writer, NULL));
  for (int i = 0; i < READERS; i++) pthread_join(r[i], NULL);
  for (int i = 0; i < WRITERS; i++) pthread_join(w[i], NULL);
  if (violations) fprintf(stderr, "kind %d: %ld violations\n", kind, violations);
  CHECK(violations == 0);
  CHECK(writes == WRITERS * (ROUNDS / 4));
  pthread_rwlock_destroy(&l);
}

/* writer preference: with a reader holding the lock and a writer waiting,
 * a new reader cannot get in (tryrdlock EBUSY); with reader preference it
 * can. */
static pthread_rwlock_t pl;
static int writer_done;
static void* pref_writer(void* arg) {
  (void)arg;
  pthread_rwlock_wrlock(&pl);
  __atomic_store_n(&writer_done, 1, __ATOMIC_SEQ_CST);
  pthread_rwlock_unlock(&pl);
  return NULL;
}
static void preference(int kind, int expect_reader_blocked) {
  pthread_rwlockattr_t a;
  pthread_rwlockattr_init(&a);
  pthread_rwlockattr_setkind_np(&a, kind);
  pthread_rwlock_init(&pl, &a);
  writer_done = 0;
  pthread_rwlock_rdlock(&pl);
  pthread_t w;
  pthread_create(&w, NULL, pref_writer, NULL);
  if (expect_reader_blocked) {
    /* once the writer waits, new readers must wait behind it */
    int r = 0;
    for (int i = 0; i < 10000 && (r = pthread_rwlock_tryrdlock(&pl)) == 0; i++) {
      pthread_rwlock_unlock(&pl);
      usleep(1000);
    }
    CHECK(r == EBUSY);
  } else {
    /* readers keep getting in, writer waiting or not */
    for (int i = 0; i < 100; i++) {
      int r = pthread_rwlock_tryrdlock(&pl);
      CHECK(r == 0);
      if (r == 0) pthread_rwlock_unlock(&pl);
      usleep(1000);
    }
  }
  CHECK(!__atomic_load_n(&writer_done, __ATOMIC_SEQ_CST));
  pthread_rwlock_unlock(&pl);
  pthread_join(w, NULL);
  CHECK(writer_done);
  pthread_rwlock_destroy(&pl);
}

int main(void) {
  run_kind(PTHREAD_RWLOCK_PREFER_READER_NP);
  run_kind(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  preference(PTHREAD_RWLOCK_PREFER_READER_NP, 0);
  preference(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, 1);
  return finish("rwlock_excl");
}
