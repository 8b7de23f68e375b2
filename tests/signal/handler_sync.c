/* handler_sync: signal handlers that call sem_post (async-signal-safe) land
 * on threads that are busy inside the threading library (mutexes and
 * semaphores in tight loops): SIGNALS times, alternating process signals
 * (kill) and directed ones (pthread_kill to a worker), each one waited for
 * (the sender takes the handler's post) before the next is sent. Every
 * signal is handled exactly once, the work counts are exact, and nothing
 * deadlocks: a handler must never run while the library holds a lock of
 * its own. */
#include <semaphore.h>

#include "common.h"

#define WORKERS 4
#define SIGNALS 2000

static sem_t from_handler;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long total;
static long done_by[WORKERS];
static atomic_int handled, stop;

static void on_usr1(int sig) {
  (void)sig;
  atomic_fetch_add(&handled, 1);
  sem_post(&from_handler);
}

static void* worker(void* arg) {
  long me = (long)arg;
  sem_t ping;
  CHECK(sem_init(&ping, 0, 0) == 0);
  long n = 0;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    pthread_mutex_lock(&mu);
    total++;
    pthread_mutex_unlock(&mu);
    sem_post(&ping);
    sem_wait(&ping);
    if (++n % 64 == 0) sched_yield(); /* let the sender run with one CPU */
  }
  done_by[me] = n;
  return NULL;
}

int main(void) {
  CHECK(sem_init(&from_handler, 0, 0) == 0);
  on(SIGUSR1, on_usr1, SA_RESTART);
  pthread_t w[WORKERS];
  for (long i = 0; i < WORKERS; i++) CHECK(pthread_create(&w[i], NULL, worker, (void*)i) == 0);
  for (int i = 0; i < SIGNALS; i++) {
    if (i % 2)
      CHECK(kill(getpid(), SIGUSR1) == 0);
    else
      CHECK(pthread_kill(w[i / 2 % WORKERS], SIGUSR1) == 0);
    while (sem_wait(&from_handler) != 0) CHECK(errno == EINTR);
  }
  atomic_store(&stop, 1);
  long sum = 0;
  for (int i = 0; i < WORKERS; i++) {
    CHECK(pthread_join(w[i], NULL) == 0);
    sum += done_by[i];
  }
  CHECK(total == sum);
  CHECK(atomic_load(&handled) == SIGNALS);
  CHECK(sem_trywait(&from_handler) == -1 && errno == EAGAIN);
  printf("handler_sync: ok (%d signals handled once each, %ld locked increments)\n", SIGNALS, sum);
  return 0;
}
