/* robust_exit_order: a thread's robust mutexes are released as "owner
 * died" only after its thread-specific-data destructors have run, as the
 * kernel does with glibc's robust list at thread exit. A destructor may
 * unlock a robust mutex its thread still holds (the next locker then gets
 * 0, not EOWNERDEAD), and a robust mutex a destructor locks and keeps is
 * released as "owner died". The keys are created after the first robust
 * lock of the process, and in both orders around it, so no key order can
 * hide a release made too early. */
#define _GNU_SOURCE
#include "common.h"

static pthread_mutex_t held, taken_late;
static pthread_key_t k_before, k_after;
static int dtor_unlock_result = -1, dtor_lock_result = -1;

static void unlock_held(void* v) {
  (void)v;
  dtor_unlock_result = pthread_mutex_unlock(&held);
}

static void lock_late(void* v) {
  (void)v;
  dtor_lock_result = pthread_mutex_lock(&taken_late); /* and end holding it */
}

static void* worker(void* arg) {
  (void)arg;
  CHECK_ERR(pthread_mutex_lock(&held), 0);
  CHECK_ERR(pthread_setspecific(k_before, (void*)1), 0);
  CHECK_ERR(pthread_setspecific(k_after, (void*)1), 0);
  return NULL; /* ends holding `held` */
}

static void init_robust(pthread_mutex_t* m) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
  DIE_IF(pthread_mutex_init(m, &a));
  pthread_mutexattr_destroy(&a);
}

int main(void) {
  init_robust(&held);
  init_robust(&taken_late);
  DIE_IF(pthread_key_create(&k_before, lock_late));
  /* a robust lock before the second key exists */
  CHECK_ERR(pthread_mutex_lock(&taken_late), 0);
  CHECK_ERR(pthread_mutex_unlock(&taken_late), 0);
  DIE_IF(pthread_key_create(&k_after, unlock_held));

  for (int round = 0; round < 3; round++) {
    dtor_unlock_result = dtor_lock_result = -1;
    pthread_t t;
    DIE_IF(pthread_create(&t, NULL, worker, NULL));
    DIE_IF(pthread_join(t, NULL));
    CHECK_ERR(dtor_unlock_result, 0);                 /* it still owned `held` */
    CHECK_ERR(dtor_lock_result, 0);
    CHECK_ERR(pthread_mutex_lock(&held), 0);          /* unlocked cleanly */
    CHECK_ERR(pthread_mutex_unlock(&held), 0);
    CHECK_ERR(pthread_mutex_lock(&taken_late), EOWNERDEAD); /* died holding it */
    CHECK_ERR(pthread_mutex_consistent(&taken_late), 0);
    CHECK_ERR(pthread_mutex_unlock(&taken_late), 0);
  }
  return finish("robust_exit_order");
}
