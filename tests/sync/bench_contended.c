/* bench_contended [threads] [per-thread]: 1,000 threads increment one
 * counter under one mutex; ns per lock/unlock pair (wall time / total). */
#define _GNU_SOURCE
#include "common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter, per;

static void* worker(void* arg) {
  (void)arg;
  for (long i = 0; i < per; i++) {
    pthread_mutex_lock(&mu);
    counter++;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  per = argc > 2 ? atol(argv[2]) : 10000;
  pthread_t* t = malloc(sizeof(pthread_t) * n);
  long long t0 = now_ns(CLOCK_MONOTONIC);
  for (int i = 0; i < n; i++) DIE_IF(pthread_create(&t[i], NULL, worker, NULL));
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  double ns = (double)(now_ns(CLOCK_MONOTONIC) - t0) / ((double)n * per);
  if (counter != n * per) {
    fprintf(stderr, "wrong sum %ld\n", counter);
    return 1;
  }
  printf("RESULT name=contended_mutex_%d ns_per_op=%.1f ops=%ld\n", n, ns, n * per);
  return 0;
}
