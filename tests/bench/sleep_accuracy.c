/* sleep_accuracy [THREADS [SLEEPS]]: how late do sleeps wake? THREADS
 * threads (default 100) each do SLEEPS (default 100) relative nanosleeps of
 * 50 us to 2 ms (a fixed pseudo-random sequence per thread), all at once.
 * Lateness = actual - requested sleep (CLOCK_MONOTONIC around the call);
 * none may be negative (checked: an early return is a failure).
 *   RESULT name=sleep_accuracy p50_us=<lateness> p99_us=<lateness> max_us=<us> sleeps=<n> */
#include "common.h"

static long sleeps;
static long long* late; /* THREADS * SLEEPS lateness samples, ns */

static void* sleeper(void* arg) {
  long tid = (long)arg;
  unsigned x = (unsigned)tid * 2654435761u + 1;
  for (long i = 0; i < sleeps; i++) {
    x = x * 1103515245u + 12345u;
    long req = 50000 + (long)((x >> 8) % 1950000); /* 50 us .. 2 ms */
    struct timespec ts = {0, req};
    long long t0 = now_ns();
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
    late[tid * sleeps + i] = now_ns() - t0 - req;
  }
  return NULL;
}

int main(int argc, char** argv) {
  const char* usage = "sleep_accuracy [THREADS>0 [SLEEPS>0]]";
  long n = arg_long(argc, argv, 1, 100, usage);
  sleeps = arg_long(argc, argv, 2, 100, usage);
  late = calloc((size_t)(n * sleeps), sizeof *late);
  pthread_t* t = calloc((size_t)n, sizeof *t);
  if (!late || !t) DIE("sleep_accuracy: no memory");
  for (long i = 0; i < n; i++)
    if (pthread_create(&t[i], NULL, sleeper, (void*)i)) DIE("sleep_accuracy: pthread_create");
  for (long i = 0; i < n; i++) pthread_join(t[i], NULL);
  long total = n * sleeps, early = 0;
  for (long i = 0; i < total; i++) early += late[i] < 0;
  if (early) DIE("sleep_accuracy: %ld of %ld sleeps returned early", early, total);
  long long p50 = quantile(late, total, 0.5), p99 = quantile(late, total, 0.99);
  printf("sleep_accuracy: %ld threads x %ld sleeps of 50 us..2 ms\n", n, sleeps);
  printf("RESULT name=sleep_accuracy p50_us=%.1f p99_us=%.1f max_us=%.1f sleeps=%ld\n", p50 / 1e3, p99 / 1e3,
         late[total - 1] / 1e3, total);
  return 0;
}
