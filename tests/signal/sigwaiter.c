/* sigwaiter: the classic server shape. main blocks SIGUSR1, SIGUSR2 and
 * SIGTERM before creating any thread (so every thread inherits the mask),
 * starts workers that block in sleeps, and one thread that takes signals
 * with sigwait. Process-directed signals (kill) and one sent with
 * pthread_kill to the waiter must all reach sigwait; none may take its
 * default action (SIGTERM would kill the process) on another thread. */
#include "common.h"

#define ROUNDS 50
static atomic_int got_usr1, got_usr2, got_term;

static void* waiter(void* arg) {
  sigset_t* set = arg;
  for (;;) {
    int sig;
    CHECK(sigwait(set, &sig) == 0);
    if (sig == SIGUSR1) atomic_fetch_add(&got_usr1, 1);
    if (sig == SIGUSR2) atomic_fetch_add(&got_usr2, 1);
    if (sig == SIGTERM) {
      atomic_fetch_add(&got_term, 1);
      return NULL;
    }
  }
}

static atomic_int stop;
static void* sleeper(void* arg) {
  (void)arg;
  while (!atomic_load(&stop)) sleep_ms(5);
  return NULL;
}

int main(void) {
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  sigaddset(&set, SIGTERM);
  CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
  pthread_t w, s[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&s[i], NULL, sleeper, NULL) == 0);
  CHECK(pthread_create(&w, NULL, waiter, &set) == 0);
  for (int i = 1; i <= ROUNDS; i++) {
    CHECK(kill(getpid(), SIGUSR1) == 0);
    for (int k = 0; k < 10000 && atomic_load(&got_usr1) < i; k++) sleep_ms(1);
    CHECK(atomic_load(&got_usr1) == i);
  }
  CHECK(pthread_kill(w, SIGUSR2) == 0);
  for (int k = 0; k < 10000 && atomic_load(&got_usr2) < 1; k++) sleep_ms(1);
  CHECK(atomic_load(&got_usr2) == 1);
  CHECK(kill(getpid(), SIGTERM) == 0);
  CHECK(pthread_join(w, NULL) == 0);
  CHECK(atomic_load(&got_term) == 1);
  atomic_store(&stop, 1);
  for (int i = 0; i < 4; i++) CHECK(pthread_join(s[i], NULL) == 0);
  printf("sigwaiter: ok (%d process signals, 1 directed, SIGTERM taken by sigwait)\n", ROUNDS);
  return 0;
}
