/* pshared_owner: process-shared locks that know their owner, hammered by a
 * parent and a forked child, 4 threads each (so threads with the same
 * number inside their process, as libgreen numbers its threads, meet on
 * one lock): an rwlock, an error-checking mutex and a recursive mutex.
 * Every call must succeed (a lock wrongly refused with EDEADLK, an unlock
 * refused with EPERM, a recursive lock taken as a re-entry, are failures)
 * and a holder must be alone: no other writer or holder, no reader.
 * Regression: libgreen recognised "this thread holds it" by a thread
 * number and a pid stored one after the other, so a thread of the other
 * process with the same number matched the new number with the old pid:
 * the rwlock refused tens of thousands of calls here with EDEADLK
 * (pshared_fork failed 1 run in 150 with GREEN_PROCS=1). */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>

#include "common.h"

#define THREADS 4
#define ROUNDS 100000

struct shared {
  pthread_rwlock_t rw;
  pthread_mutex_t check, rec;
  int writers_in, readers_in, holders_in[2];
  long violations, errors;
};
static struct shared* sh;

static void* hammer(void* arg) {
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    int e = pthread_rwlock_wrlock(&sh->rw);
    if (e) {
      __atomic_add_fetch(&sh->errors, 1, __ATOMIC_SEQ_CST);
      continue;
    }
    if (__atomic_add_fetch(&sh->writers_in, 1, __ATOMIC_SEQ_CST) != 1 ||
        __atomic_load_n(&sh->readers_in, __ATOMIC_SEQ_CST))
      __atomic_add_fetch(&sh->violations, 1, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&sh->writers_in, 1, __ATOMIC_SEQ_CST);
    if (pthread_rwlock_unlock(&sh->rw)) __atomic_add_fetch(&sh->errors, 1, __ATOMIC_SEQ_CST);
    e = pthread_rwlock_rdlock(&sh->rw);
    if (e) {
      __atomic_add_fetch(&sh->errors, 1, __ATOMIC_SEQ_CST);
      continue;
    }
    __atomic_add_fetch(&sh->readers_in, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&sh->writers_in, __ATOMIC_SEQ_CST))
      __atomic_add_fetch(&sh->violations, 1, __ATOMIC_SEQ_CST);
    __atomic_sub_fetch(&sh->readers_in, 1, __ATOMIC_SEQ_CST);
    if (pthread_rwlock_unlock(&sh->rw)) __atomic_add_fetch(&sh->errors, 1, __ATOMIC_SEQ_CST);
    if (i % 4) continue;
    pthread_mutex_t* ms[2] = {&sh->check, &sh->rec};
    for (int k = 0; k < 2; k++) {
      if (pthread_mutex_lock(ms[k])) {
        __atomic_add_fetch(&sh->errors, 1, __ATOMIC_SEQ_CST);
        continue;
      }
      if (__atomic_add_fetch(&sh->holders_in[k], 1, __ATOMIC_SEQ_CST) != 1)
        __atomic_add_fetch(&sh->violations, 1, __ATOMIC_SEQ_CST);
      __atomic_sub_fetch(&sh->holders_in[k], 1, __ATOMIC_SEQ_CST);
      if (pthread_mutex_unlock(ms[k])) __atomic_add_fetch(&sh->errors, 1, __ATOMIC_SEQ_CST);
    }
  }
  return NULL;
}

static void init_mutex(pthread_mutex_t* m, int type) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_settype(&a, type);
  DIE_IF(pthread_mutex_init(m, &a));
}

static void play(void) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) DIE_IF(pthread_create(&t[i], NULL, hammer, NULL));
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
}

int main(void) {
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  DIE_IF(sh == MAP_FAILED);
  init_mutex(&sh->check, PTHREAD_MUTEX_ERRORCHECK);
  init_mutex(&sh->rec, PTHREAD_MUTEX_RECURSIVE);
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
  DIE_IF(pthread_rwlock_init(&sh->rw, &ra));
  pid_t pid = fork();
  DIE_IF(pid < 0);
  play();
  if (pid == 0) _exit(0);
  int st;
  CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  if (sh->violations || sh->errors)
    fprintf(stderr, "pshared_owner: %ld exclusion violations, %ld calls failed\n", sh->violations,
            sh->errors);
  CHECK(sh->violations == 0);
  CHECK(sh->errors == 0);
  if (failures) {
    fprintf(stderr, "pshared_owner: %d check(s) failed\n", failures);
    return 1;
  }
  printf("pshared_owner: ok\n");
  return 0;
}
