/* many_waiters [N] [max_kernel_threads]: N threads (10,000) all block on one
 * condvar, then one broadcast wakes them all. While they wait, the kernel's
 * thread count of the process (/proc/self/status) is sampled; with a
 * second argument it must not exceed that (libgreen: GREEN_PROCS + 4). */
#define _GNU_SOURCE
#include "common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int waiting, go, woken;

static void* waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  waiting++;
  while (!go) pthread_cond_wait(&cv, &mu);
  woken++;
  pthread_mutex_unlock(&mu);
  return NULL;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10000;
  int max = argc > 2 ? atoi(argv[2]) : 0;
  pthread_t* t = malloc(sizeof(pthread_t) * n);
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 << 10);
  int peak = 0;
  for (int i = 0; i < n; i++) {
    DIE_IF(pthread_create(&t[i], &a, waiter, NULL));
    if (i % 500 == 0) {
      int k = kernel_threads();
      if (k > peak) peak = k;
    }
  }
  for (;;) {
    pthread_mutex_lock(&mu);
    int w = waiting;
    pthread_mutex_unlock(&mu);
    int k = kernel_threads();
    if (k > peak) peak = k;
    if (w == n) break;
    usleep(1000);
  }
  int k = kernel_threads();
  if (k > peak) peak = k;
  pthread_mutex_lock(&mu);
  go = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  CHECK(woken == n);
  printf("many_waiters: %d threads blocked on one condvar, peak kernel threads %d\n", n, peak);
  if (max) {
    if (peak > max) fprintf(stderr, "peak %d kernel threads > %d\n", peak, max);
    CHECK(peak <= max);
  }
  return finish("many_waiters");
}
