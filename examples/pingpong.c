/* pingpong cond|yield [N]: two threads hand a turn back and forth N times,
 * with a mutex + condition variable, or by spinning on sched_yield. Prints
 * ns per switch (one hand-over = one switch; a round trip is two). */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn;
static long n;

static void* by_cond(void* arg) {
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

static void* by_yield(void* arg) {
  int me = (int)(long)arg;
  for (long i = 0; i < n; i++) {
    while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != me) sched_yield();
    __atomic_store_n(&turn, 1 - me, __ATOMIC_RELEASE);
  }
  return NULL;
}

int main(int argc, char** argv) {
  int cond = argc < 2 || strcmp(argv[1], "yield") != 0;
  n = argc > 2 ? atol(argv[2]) : 1000000;
  void* (*f)(void*) = cond ? by_cond : by_yield;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  pthread_t x, y;
  pthread_create(&x, NULL, f, (void*)0L);
  pthread_create(&y, NULL, f, (void*)1L);
  pthread_join(x, NULL);
  pthread_join(y, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (2.0 * n);
  printf("RESULT name=pingpong_%s ns_per_op=%.1f ops=%ld\n", cond ? "cond" : "yield", ns, 2 * n);
  return 0;
}
