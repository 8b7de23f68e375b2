/* alarm_busy: alarm() delivers SIGALRM to the process while every thread
 * computes (no system calls); the handler runs and the flag it sets ends
 * the loops. Also SIGALRM while the threads sleep in a loop of short
 * sleeps (SA_RESTART). */
#include "common.h"

static atomic_int fired;
static void on_alrm(int sig) {
  (void)sig;
  atomic_fetch_add(&fired, 1);
}

static void* spin(void* arg) {
  (void)arg;
  unsigned long n = 0;
  while (!atomic_load_explicit(&fired, memory_order_relaxed)) n++;
  return (void*)n;
}

int main(void) {
  on(SIGALRM, on_alrm, SA_RESTART);
  pthread_t t[3];
  for (int i = 0; i < 3; i++) CHECK(pthread_create(&t[i], NULL, spin, NULL) == 0);
  alarm(1);
  spin(NULL);
  for (int i = 0; i < 3; i++) CHECK(pthread_join(t[i], NULL) == 0);
  CHECK(atomic_load(&fired) == 1);
  alarm(1);
  double t0 = now_s();
  while (atomic_load(&fired) < 2 && now_s() - t0 < 10) sleep_ms(10);
  CHECK(atomic_load(&fired) == 2);
  printf("alarm_busy: ok\n");
  return 0;
}
