/* handoff_fair: two threads hand a turn back and forth through a condvar
 * without pause, until a third thread sets a flag. The pair must not keep
 * that thread from running:
 *  - reader: it waits for a pipe that a child process writes to after
 *    50 ms (under libgreen: a G made runnable by the network poller, in
 *    the global queue, with every P busy with the pair);
 *  - yielder: it calls sched_yield 1,000 times first (under libgreen: a G
 *    queued behind the pair on the same P, GREEN_PROCS=1). */
#define _GNU_SOURCE
#include <sys/wait.h>

#include "common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn, stop;
static long rounds;
static int fds[2];

static void* player(void* arg) {
  int me = (int)(long)arg;
  pthread_mutex_lock(&mu);
  while (!stop) {
    while (turn != me && !stop) pthread_cond_wait(&cv, &mu);
    turn = 1 - me;
    rounds++;
    pthread_cond_signal(&cv);
  }
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void* reader(void* arg) {
  if (arg) {
    for (int i = 0; i < 1000; i++) sched_yield();
  } else {
    char c;
    CHECK(read(fds[0], &c, 1) == 1);
  }
  pthread_mutex_lock(&mu);
  stop = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void round_with(int yielder) {
  stop = 0;
  rounds = 0;
  pthread_t a, b, r;
  DIE_IF(pthread_create(&a, NULL, player, (void*)0L));
  DIE_IF(pthread_create(&b, NULL, player, (void*)1L));
  while (__atomic_load_n(&rounds, __ATOMIC_RELAXED) < 1000) sched_yield(); /* the pair runs */
  DIE_IF(pthread_create(&r, NULL, reader, (void*)(long)yielder));
  pid_t child = -1;
  if (!yielder) {
    child = fork();
    DIE_IF(child < 0);
    if (child == 0) {
      usleep(50 * 1000);
      _exit(write(fds[1], "x", 1) == 1 ? 0 : 1);
    }
  }
  long long t0 = now_ns(CLOCK_MONOTONIC);
  pthread_join(r, NULL);
  long long waited_ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  if (!yielder) {
    int st;
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  printf("%s ran after %lld ms, %ld hand-overs\n", yielder ? "yielder" : "reader", waited_ms, rounds);
}

int main(void) {
  DIE_IF(pipe(fds));
  round_with(0);
  round_with(1);
  return finish("handoff_fair");
}
