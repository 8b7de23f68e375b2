/* mutex_starve: threads that re-acquire one mutex without pause must not
 * keep the others out for ever. 4 "hammers" lock, bump a counter and
 * unlock in a tight loop until told to stop; 16 "late" threads, started
 * once the hammers run, each need the mutex 50 times (and 50 times more
 * through a timed lock and a trylock loop). The test ends only if every
 * late thread gets in (natively the kernel's wake-ups make sure of it;
 * under libgreen at most one woken waiter at a time retries, and it must
 * still get its turn); run.sh's timeout catches a starved one. Also
 * checks, under the pressure, that every increment is counted. */
#define _GNU_SOURCE
#include <sched.h>

#include "common.h"

enum { HAMMERS = 4, LATE = 16, TIMES = 50 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter, hammered[HAMMERS], late_got;
static int stop;

static void* hammer(void* arg) {
  long me = (long)arg;
  while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
    pthread_mutex_lock(&mu);
    counter++;
    hammered[me]++;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

static void* late(void* arg) {
  (void)arg;
  for (int i = 0; i < TIMES; i++) {
    pthread_mutex_lock(&mu);
    counter++;
    late_got++;
    pthread_mutex_unlock(&mu);
    struct timespec t = after_ms(CLOCK_REALTIME, 60000);
    CHECK_ERR(pthread_mutex_timedlock(&mu, &t), 0);
    counter++;
    late_got++;
    pthread_mutex_unlock(&mu);
    while (pthread_mutex_trylock(&mu) != 0) sched_yield();
    counter++;
    late_got++;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

int main(void) {
  pthread_t h[HAMMERS], l[LATE];
  for (long i = 0; i < HAMMERS; i++) DIE_IF(pthread_create(&h[i], NULL, hammer, (void*)i));
  for (;;) { /* every hammer has been in */
    pthread_mutex_lock(&mu);
    int all = 1;
    for (int i = 0; i < HAMMERS; i++) all &= hammered[i] > 0;
    pthread_mutex_unlock(&mu);
    if (all) break;
    sched_yield();
  }
  for (int i = 0; i < LATE; i++) DIE_IF(pthread_create(&l[i], NULL, late, NULL));
  for (int i = 0; i < LATE; i++) pthread_join(l[i], NULL);
  __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
  long total = 0;
  for (int i = 0; i < HAMMERS; i++) {
    pthread_join(h[i], NULL);
    total += hammered[i];
  }
  CHECK(late_got == (long)LATE * TIMES * 3);
  CHECK(counter == total + late_got);
  printf("late threads got the mutex %ld times while %ld hammer locks went through\n", late_got,
         total);
  return finish("mutex_starve");
}
