/* bench_cond_pingpong [N]: two threads hand a turn back and forth N times
 * with a mutex and a condvar; ns per switch (one hand-over). */
#define _GNU_SOURCE
#include "common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn;
static long n;

static void* player(void* arg) {
  int me = (int)(long)arg;
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&mu);
    while (turn != me) pthread_cond_wait(&cv, &mu);
    turn = 1 - me;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

int main(int argc, char** argv) {
  n = argc > 1 ? atol(argv[1]) : 1000000;
  long long t0 = now_ns(CLOCK_MONOTONIC);
  pthread_t a, b;
  pthread_create(&a, NULL, player, (void*)0L);
  pthread_create(&b, NULL, player, (void*)1L);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  double ns = (double)(now_ns(CLOCK_MONOTONIC) - t0) / (2.0 * n);
  printf("RESULT name=cond_pingpong ns_per_op=%.1f ops=%ld\n", ns, 2 * n);
  return 0;
}
