/* cpu_parallel [THREADS [MILLIONS]]: CPU-bound work split over THREADS
 * threads (default 2). The work is MILLIONS (default 200) million steps of
 * an integer hash, in THREADS equal chunks, each with its own seed. It is
 * done twice: by one thread (all chunks in turn), then by THREADS threads
 * at once (one chunk each). Each chunk's result must be the same both
 * times (checked). The speedup is t(1 thread) / t(THREADS threads): on
 * this 2-core machine at most 2, natively as under libgreen GREEN_PROCS=2.
 *   RESULT name=cpu_parallel speedup=<x> t1_ms=<ms> tn_ms=<ms> threads=<n> */
#include "common.h"

#include <stdint.h>

static long steps_per_chunk;

static uint64_t chunk(uint64_t seed) {
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
  for (long i = 0; i < steps_per_chunk; i++) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 29;
  }
  return x;
}

static void* worker(void* arg) {
  uint64_t* r = arg;
  *r = chunk(*r);
  return NULL;
}

int main(int argc, char** argv) {
  const char* usage = "cpu_parallel [THREADS>0 [MILLIONS>0]]";
  long n = arg_long(argc, argv, 1, 2, usage);
  long millions = arg_long(argc, argv, 2, 200, usage);
  steps_per_chunk = millions * 1000000 / n;
  uint64_t* one = calloc((size_t)n, sizeof *one);
  uint64_t* par = calloc((size_t)n, sizeof *par);
  pthread_t* t = calloc((size_t)n, sizeof *t);
  if (!one || !par || !t) DIE("cpu_parallel: no memory");

  /* one thread (a created one, as the parallel phase uses) does it all */
  long long t0 = now_ns();
  for (long i = 0; i < n; i++) {
    one[i] = (uint64_t)i;
    pthread_t s;
    if (pthread_create(&s, NULL, worker, &one[i]) || pthread_join(s, NULL)) DIE("cpu_parallel: create");
  }
  long long t1 = now_ns();
  for (long i = 0; i < n; i++) {
    par[i] = (uint64_t)i;
    int e = pthread_create(&t[i], NULL, worker, &par[i]);
    if (e) DIE("cpu_parallel: pthread_create: %s", strerror(e));
  }
  for (long i = 0; i < n; i++) pthread_join(t[i], NULL);
  long long t2 = now_ns();
  for (long i = 0; i < n; i++)
    if (one[i] != par[i]) DIE("cpu_parallel: chunk %ld differs between the runs", i);
  double a = (t1 - t0) / 1e6, b = (t2 - t1) / 1e6;
  printf("cpu_parallel: %ld chunks of %ld steps: 1 thread %.1f ms, %ld threads %.1f ms\n", n,
         steps_per_chunk, a, n, b);
  printf("RESULT name=cpu_parallel speedup=%.3f t1_ms=%.1f tn_ms=%.1f threads=%ld\n", a / b, a, b, n);
  return 0;
}
