/* mutex_sum [threads] [increments]: 1,000 threads x 10,000 increments of
 * one counter under one mutex (each kind in turn with fewer ops); the sum
 * must be exact. */
#define _GNU_SOURCE
#include "common.h"

static pthread_mutex_t mu;
static long counter, iters;

static void* worker(void* arg) {
  (void)arg;
  for (long i = 0; i < iters; i++) {
    pthread_mutex_lock(&mu);
    counter++;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

static void round_of(int type, int nthreads, long n) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, type);
  pthread_mutex_init(&mu, &a);
  counter = 0;
  iters = n;
  pthread_t* t = malloc(sizeof(pthread_t) * nthreads);
  for (int i = 0; i < nthreads; i++) DIE_IF(pthread_create(&t[i], NULL, worker, NULL));
  for (int i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
  free(t);
  if (counter != nthreads * n) fprintf(stderr, "type %d: sum %ld, expected %ld\n", type, counter, nthreads * n);
  CHECK(counter == nthreads * n);
  pthread_mutex_destroy(&mu);
}

int main(int argc, char** argv) {
  int nthreads = argc > 1 ? atoi(argv[1]) : 1000;
  long n = argc > 2 ? atol(argv[2]) : 10000;
  round_of(PTHREAD_MUTEX_NORMAL, nthreads, n);
  round_of(PTHREAD_MUTEX_RECURSIVE, 100, n);
  round_of(PTHREAD_MUTEX_ERRORCHECK, 100, n);
  round_of(PTHREAD_MUTEX_ADAPTIVE_NP, 100, n);
  return finish("mutex_sum");
}
