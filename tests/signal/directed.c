/* directed: pthread_kill reaches exactly the thread it names, and the
 * handler runs on that thread (pthread_self() inside it is the target).
 * Targets: threads spinning on the CPU, threads yielding in a loop, and
 * the main thread itself (pthread_kill(self) and raise run the handler
 * before they return). */
#include "common.h"

#define N 8
static pthread_t tid[N];
static atomic_int hits[N], wrong, stop, ready;
static __thread int my_index = -1;

static void on_usr1(int sig) {
  (void)sig;
  pthread_t self = pthread_self();
  for (int i = 0; i < N; i++)
    if (pthread_equal(self, tid[i])) {
      if (my_index != i) atomic_fetch_add(&wrong, 1); /* TLS says another thread */
      atomic_fetch_add(&hits[i], 1);
      return;
    }
  atomic_fetch_add(&wrong, 1);
}

static volatile int raised;
static void on_usr2(int sig) { (void)sig; raised++; }

static void* worker(void* arg) {
  my_index = (int)(long)arg;
  atomic_fetch_add(&ready, 1);
  unsigned long spins = 0;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    spins++;
    if (my_index % 2 && spins % 1000 == 0) sched_yield();
  }
  return NULL;
}

int main(void) {
  on(SIGUSR1, on_usr1, SA_RESTART);
  on(SIGUSR2, on_usr2, SA_RESTART);
  /* raise and pthread_kill(self): the handler has run when they return */
  CHECK(raise(SIGUSR2) == 0 && raised == 1);
  CHECK(pthread_kill(pthread_self(), SIGUSR2) == 0 && raised == 2);
  CHECK(pthread_kill(pthread_self(), 0) == 0);
  CHECK(pthread_kill(pthread_self(), 12345) == EINVAL);
  for (long i = 0; i < N; i++) CHECK(pthread_create(&tid[i], NULL, worker, (void*)i) == 0);
  while (atomic_load(&ready) < N) sleep_ms(1);
  for (int round = 1; round <= 5; round++) {
    for (int i = 0; i < N; i++) CHECK(pthread_kill(tid[i], SIGUSR1) == 0);
    for (int i = 0; i < N; i++)
      for (int k = 0; k < 10000 && atomic_load(&hits[i]) < round; k++) sleep_ms(1);
    for (int i = 0; i < N; i++) CHECK(atomic_load(&hits[i]) == round);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < N; i++) CHECK(pthread_join(tid[i], NULL) == 0);
  CHECK(atomic_load(&wrong) == 0);
  printf("directed: ok (%d threads x 5 signals, each on its target)\n", N);
  return 0;
}
