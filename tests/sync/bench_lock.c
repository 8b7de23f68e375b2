/* bench_lock [N]: uncontended pthread_mutex_lock + unlock pairs on one
 * thread; ns per pair. The critical section bumps a counter, which must
 * reach N (checked). */
#define _GNU_SOURCE
#include "common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static volatile long counter;

static void* run(void* arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&mu);
    counter++;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 50000000;
  pthread_t t; /* in a created thread, as applications lock */
  long long t0 = now_ns(CLOCK_MONOTONIC);
  pthread_create(&t, NULL, run, (void*)n);
  pthread_join(t, NULL);
  double ns = (double)(now_ns(CLOCK_MONOTONIC) - t0) / n;
  if (counter != n) {
    fprintf(stderr, "bench_lock: counter %ld, expected %ld\n", counter, n);
    return 1;
  }
  printf("RESULT name=uncontended_lock ns_per_op=%.2f ops=%ld\n", ns, n);
  return 0;
}
