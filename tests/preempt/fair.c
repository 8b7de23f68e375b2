/* fair [THREADS] [MS]: THREADS CPU-bound threads count loop iterations
 * (never blocking) while main sleeps MS milliseconds, then main stops them.
 * Every thread must have got a fair share of the CPU: the least-served one
 * at least a quarter of the average. Also checks main's sleep ended (main
 * must get the CPU back from the spinning threads). Prints each count. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAXT 64
static atomic_int stop;
static atomic_int running;
static volatile unsigned long counts[MAXT];

static void* burn(void* arg) {
  long i = (long)arg;
  unsigned long c = 0;
  atomic_fetch_add(&running, 1);
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    c++;
    if ((c & 1023) == 0) counts[i] = c; /* visible progress, no sync */
  }
  counts[i] = c;
  return NULL;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4;
  int ms = argc > 2 ? atoi(argv[2]) : 1000;
  if (n < 1 || n > MAXT || ms < 1) {
    fprintf(stderr, "usage: fair [1..%d] [MS>0]\n", MAXT);
    return 2;
  }
  pthread_t t[MAXT];
  for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, burn, (void*)i);
  struct timespec d = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&d, NULL);
  atomic_store(&stop, 1);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  unsigned long sum = 0, min = ~0UL;
  for (int i = 0; i < n; i++) {
    printf("thread %d: %lu iterations\n", i, counts[i]);
    sum += counts[i];
    if (counts[i] < min) min = counts[i];
  }
  double avg = (double)sum / n;
  printf("fair: %d threads ran %d ms; least-served got %.0f%% of the average\n", n, ms,
         avg > 0 ? 100.0 * min / avg : 0.0);
  if (atomic_load(&running) != n || min < avg / 4) {
    fprintf(stderr, "fair: unfair share (min %lu, average %.0f)\n", min, avg);
    return 1;
  }
  return 0;
}
