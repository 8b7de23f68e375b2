/* spin_timer: one thread spins (no yield, no system call) until a flag is
 * set by a thread that first sleeps 50 ms. With one CPU for both, the
 * sleeper's timer must fire and the spinner be preempted for it to run:
 * nothing is queued to run while the timer is pending. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static atomic_int flag;

static void* sleeper(void* arg) {
  (void)arg;
  struct timespec d = {0, 50 * 1000000};
  nanosleep(&d, NULL);
  atomic_store(&flag, 1);
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, sleeper, NULL)) return 1;
  struct timespec d = {0, 1000000};
  nanosleep(&d, NULL); /* the sleeper is asleep now */
  unsigned long spins = 0;
  while (!atomic_load_explicit(&flag, memory_order_acquire)) spins++;
  pthread_join(t, NULL);
  printf("spin_timer: ok after %lu spins\n", spins);
  return 0;
}
