/* mutex_mix [threads] [iterations] [rounds] [per round]: every way of taking one mutex at once,
 * to catch a lost wake-up. Workers take it with lock, trylock (then lock)
 * and timedlock with a deadline a microsecond away (waiters that give up
 * leave the mutex marked as having waiters), some doing work outside it
 * (so that contenders may spin) and some not; with it held they now and
 * then wake a group of condvar sleepers with broadcast, which moves them
 * onto the mutex's queue. Then many short rounds of two or three threads:
 * with few waiters, a wake-up that is lost stays lost (with many, the next
 * contender's unlock wakes someone anyway). The counter must be exact and
 * everyone must finish: a lost wake-up hangs, and the alarm turns that
 * into a failure. */
#define _GNU_SOURCE
#include <signal.h>

#include "common.h"

#define SLEEPERS 16

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter, iters, gen, sleeper_wakes;
static int done;

static void take(long i) {
  switch (i % 3) {
    case 0:
      DIE_IF(pthread_mutex_lock(&mu) != 0);
      break;
    case 1:
      if (pthread_mutex_trylock(&mu) == EBUSY) DIE_IF(pthread_mutex_lock(&mu) != 0);
      break;
    default: {
      struct timespec t;
      clock_gettime(CLOCK_REALTIME, &t);
      t.tv_nsec += 1000;
      if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
      }
      int r = pthread_mutex_timedlock(&mu, &t);
      if (r == ETIMEDOUT) r = pthread_mutex_lock(&mu);
      DIE_IF(r != 0);
    }
  }
}

static void* worker(void* arg) {
  long id = (long)arg;
  volatile long spin = 0;
  for (long i = 0; i < iters; i++) {
    take(i + id);
    counter++;
    if ((i + id) % 512 == 0) {
      gen++;
      pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
    if (id & 1)
      for (int k = 0; k < 50; k++) spin++;  // work outside: the holder may be running
  }
  return NULL;
}

static void* sleeper(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  long seen = gen;
  while (!done) {
    while (gen == seen && !done) pthread_cond_wait(&cv, &mu);
    seen = gen;
    sleeper_wakes++;
  }
  pthread_mutex_unlock(&mu);
  return NULL;
}

// Short rounds: `k` threads take the mutex `per` times each.
static long rounds_of_few(int nrounds, long per) {
  long total = 0;
  iters = per;
  for (int r = 0; r < nrounds; r++) {
    int k = 2 + r % 2;
    pthread_t t[3];
    for (long i = 0; i < k; i++) DIE_IF(pthread_create(&t[i], NULL, worker, (void*)(i + r)));
    for (int i = 0; i < k; i++) pthread_join(t[i], NULL);
    total += k * per;
  }
  return total;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 200;
  iters = argc > 2 ? atol(argv[2]) : 50000;
  alarm(60);  // a lost wake-up: SIGALRM ends us with a failure
  pthread_t s[SLEEPERS];
  pthread_t* t = malloc(sizeof(pthread_t) * n);
  for (int i = 0; i < SLEEPERS; i++) DIE_IF(pthread_create(&s[i], NULL, sleeper, NULL));
  for (long i = 0; i < n; i++) DIE_IF(pthread_create(&t[i], NULL, worker, (void*)i));
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  pthread_mutex_lock(&mu);
  done = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  for (int i = 0; i < SLEEPERS; i++) pthread_join(s[i], NULL);
  long want = (long)n * iters;
  CHECK(counter == want);
  CHECK(sleeper_wakes > 0);
  counter = 0;
  want = rounds_of_few(argc > 3 ? atoi(argv[3]) : 3000, argc > 4 ? atol(argv[4]) : 1000);
  CHECK(counter == want);
  if (failures) {
    fprintf(stderr, "counter %ld, expected %ld\n", counter, want);
    return 1;
  }
  printf("mutex_mix: %d threads, %ld sleeper wake-ups, then rounds of few\n", n, sleeper_wakes);
  return 0;
}
