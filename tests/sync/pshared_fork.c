/* pshared_fork: a process-shared mutex, condvar, rwlock, barrier and
 * semaphore in MAP_SHARED memory, and a named semaphore, used between a
 * parent and a forked child (forked from main before any thread). Both
 * processes increment one counter under the mutex from several threads
 * (exact sum), play condvar ping-pong, hand a semaphore token back and
 * forth, and meet at a barrier. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "common.h"

#define THREADS 4
#define INCS 20000
#define PINGS 2000

struct shared {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_rwlock_t rw;
  pthread_barrier_t bar;
  sem_t ping, pong;
  long counter;
  int turn;
  int writers_in;
  long violations;
};
static struct shared* sh;
static sem_t* named;

static void* incrementer(void* arg) {
  (void)arg;
  for (int i = 0; i < INCS; i++) {
    pthread_mutex_lock(&sh->mu);
    sh->counter++;
    pthread_mutex_unlock(&sh->mu);
    if (i % 64 == 0) {
      pthread_rwlock_wrlock(&sh->rw);
      if (__atomic_add_fetch(&sh->writers_in, 1, __ATOMIC_SEQ_CST) != 1) sh->violations++;
      __atomic_sub_fetch(&sh->writers_in, 1, __ATOMIC_SEQ_CST);
      pthread_rwlock_unlock(&sh->rw);
      pthread_rwlock_rdlock(&sh->rw);
      if (__atomic_load_n(&sh->writers_in, __ATOMIC_SEQ_CST)) __atomic_add_fetch(&sh->violations, 1, __ATOMIC_SEQ_CST);
      pthread_rwlock_unlock(&sh->rw);
    }
  }
  return NULL;
}

static void play(int me) {
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) DIE_IF(pthread_create(&t[i], NULL, incrementer, NULL));
  /* condvar ping-pong between the two processes */
  for (int i = 0; i < PINGS; i++) {
    pthread_mutex_lock(&sh->mu);
    while (sh->turn != me) pthread_cond_wait(&sh->cv, &sh->mu);
    sh->turn = 1 - me;
    pthread_cond_broadcast(&sh->cv);
    pthread_mutex_unlock(&sh->mu);
  }
  /* semaphore hand-off */
  for (int i = 0; i < PINGS; i++) {
    if (me == 0) {
      sem_post(&sh->ping);
      while (sem_wait(&sh->pong) && errno == EINTR) {
      }
    } else {
      while (sem_wait(&sh->ping) && errno == EINTR) {
      }
      sem_post(&sh->pong);
    }
  }
  /* named semaphore: the child posts PINGS times, the parent takes them */
  for (int i = 0; i < PINGS; i++) {
    if (me == 1)
      sem_post(named);
    else
      while (sem_wait(named) && errno == EINTR) {
      }
  }
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  int r = pthread_barrier_wait(&sh->bar);
  CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
}

int main(void) {
  sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  DIE_IF(sh == MAP_FAILED);
  pthread_mutexattr_t ma;
  pthread_mutexattr_init(&ma);
  pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
  DIE_IF(pthread_mutex_init(&sh->mu, &ma));
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
  DIE_IF(pthread_cond_init(&sh->cv, &ca));
  pthread_rwlockattr_t ra;
  pthread_rwlockattr_init(&ra);
  pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED);
  DIE_IF(pthread_rwlock_init(&sh->rw, &ra));
  pthread_barrierattr_t ba;
  pthread_barrierattr_init(&ba);
  pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
  DIE_IF(pthread_barrier_init(&sh->bar, &ba, 2));
  DIE_IF(sem_init(&sh->ping, 1, 0));
  DIE_IF(sem_init(&sh->pong, 1, 0));
  char name[64];
  snprintf(name, sizeof name, "/libgreen_sync_%d", (int)getpid());
  named = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
  DIE_IF(named == SEM_FAILED);

  pid_t child = fork();
  DIE_IF(child < 0);
  if (child == 0) {
    play(1);
    _exit(failures ? 1 : 0);
  }
  play(0);
  int st = 0;
  DIE_IF(waitpid(child, &st, 0) != child);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  if (sh->counter != 2L * THREADS * INCS) fprintf(stderr, "counter %ld\n", sh->counter);
  CHECK(sh->counter == 2L * THREADS * INCS);
  CHECK(sh->violations == 0);
  int v = -1;
  sem_getvalue(named, &v);
  CHECK(v == 0);
  CHECK(sem_close(named) == 0);
  CHECK(sem_unlink(name) == 0);
  return finish("pshared_fork");
}
