/* spin_sum: 8 threads x 50,000 increments under one spin lock; exact sum.
 * With one P under libgreen a waiter must yield so the holder can run. */
#define _GNU_SOURCE
#include "common.h"

static pthread_spinlock_t s;
static long counter;

static void* worker(void* arg) {
  (void)arg;
  for (int i = 0; i < 50000; i++) {
    pthread_spin_lock(&s);
    counter++;
    if (i % 5000 == 0) sched_yield(); /* sometimes yield while holding it */
    pthread_spin_unlock(&s);
  }
  return NULL;
}

int main(void) {
  DIE_IF(pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE));
  pthread_t t[8];
  for (int i = 0; i < 8; i++) DIE_IF(pthread_create(&t[i], NULL, worker, NULL));
  for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
  CHECK(counter == 8L * 50000);
  return finish("spin_sum");
}
