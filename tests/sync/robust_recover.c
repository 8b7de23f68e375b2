/* robust_recover: 200 threads share a robust mutex; every 10th one ends
 * while holding it (pthread_exit or return). The next locker gets
 * EOWNERDEAD, repairs the protected state and calls
 * pthread_mutex_consistent. The counter, incremented under the lock and
 * rolled back to the last committed value on recovery, ends exact. */
#define _GNU_SOURCE
#include "common.h"

#define THREADS 200
#define PER 200

static pthread_mutex_t m;
static long committed, pending_dirty, recoveries, deaths;

static void* worker(void* arg) {
  long id = (long)arg;
  for (int i = 0; i < PER; i++) {
    int r = pthread_mutex_lock(&m);
    if (r == EOWNERDEAD) {
      pending_dirty = 0; /* repair: drop the dead owner's half-done work */
      recoveries++;
      CHECK(pthread_mutex_consistent(&m) == 0);
    } else if (r != 0) {
      CHECK(r == 0);
      return NULL;
    }
    pending_dirty = 1;
    if (id % 10 == 0 && i == PER / 2) {
      deaths++;
      if (id % 20 == 0) pthread_exit(NULL); /* dies holding the lock */
      return NULL;
    }
    committed++;
    pending_dirty = 0;
    pthread_mutex_unlock(&m);
  }
  return NULL;
}

int main(void) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  DIE_IF(pthread_mutex_init(&m, &a));
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) DIE_IF(pthread_create(&t[i], NULL, worker, (void*)i));
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  /* the last death may be unrecovered yet */
  int r = pthread_mutex_lock(&m);
  if (r == EOWNERDEAD) {
    recoveries++;
    pthread_mutex_consistent(&m);
  }
  long expect = (long)(THREADS - THREADS / 10) * PER + (long)(THREADS / 10) * (PER / 2);
  if (committed != expect || recoveries != deaths)
    fprintf(stderr, "committed %ld (expected %ld), %ld deaths, %ld recoveries\n", committed, expect, deaths, recoveries);
  CHECK(committed == expect);
  CHECK(recoveries == deaths);
  CHECK(pthread_mutex_unlock(&m) == 0);
  return finish("robust_recover");
}
