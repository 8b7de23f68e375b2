/* bench_sem [N]: two threads hand a token back and forth through two
 * semaphores N times; ns per hand-off. */
#define _GNU_SOURCE
#include <semaphore.h>

#include "common.h"

static sem_t a, b;
static long n;

static void* other(void* arg) {
  (void)arg;
  for (long i = 0; i < n; i++) {
    sem_wait(&a);
    sem_post(&b);
  }
  return NULL;
}

int main(int argc, char** argv) {
  n = argc > 1 ? atol(argv[1]) : 1000000;
  sem_init(&a, 0, 0);
  sem_init(&b, 0, 0);
  pthread_t t;
  long long t0 = now_ns(CLOCK_MONOTONIC);
  pthread_create(&t, NULL, other, NULL);
  for (long i = 0; i < n; i++) {
    sem_post(&a);
    sem_wait(&b);
  }
  pthread_join(t, NULL);
  double ns = (double)(now_ns(CLOCK_MONOTONIC) - t0) / (2.0 * n);
  printf("RESULT name=sem_handoff ns_per_op=%.1f ops=%ld\n", ns, 2 * n);
  return 0;
}
