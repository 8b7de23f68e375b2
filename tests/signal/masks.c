/* masks: signal masks are per thread. A new thread inherits its creator's
 * mask; changing one thread's mask leaves the others alone; a signal sent
 * with pthread_kill to a thread that blocks it stays pending (sigpending
 * shows it) and its handler runs on that thread once it unblocks; a signal
 * sent to the process runs on a thread that does not block it. */
#include "common.h"

static pthread_t blocker;
static atomic_int ran_on_blocker, ran_elsewhere, ran_total;
static atomic_int step;

static void on_usr1(int sig) {
  (void)sig;
  atomic_fetch_add(&ran_total, 1);
  if (pthread_equal(pthread_self(), blocker))
    atomic_fetch_add(&ran_on_blocker, 1);
  else
    atomic_fetch_add(&ran_elsewhere, 1);
}

static int blocked_here(int sig) {
  sigset_t cur;
  CHECK(pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0);
  return sigismember(&cur, sig);
}

static void* inherits(void* arg) {
  (void)arg;
  return (void*)(long)blocked_here(SIGUSR2);
}

static void* blocking_thread(void* arg) {
  (void)arg;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  CHECK(pthread_sigmask(SIG_BLOCK, &s, NULL) == 0);
  CHECK(blocked_here(SIGUSR1));
  atomic_store(&step, 1);
  while (atomic_load(&step) < 2) sleep_ms(1);
  /* pthread_kill(us, SIGUSR1) happened: pending, not run */
  sigset_t p;
  CHECK(sigpending(&p) == 0 && sigismember(&p, SIGUSR1));
  CHECK(atomic_load(&ran_on_blocker) == 0);
  CHECK(pthread_sigmask(SIG_UNBLOCK, &s, NULL) == 0);
  /* unblocking delivers it here, before pthread_sigmask returns */
  CHECK(atomic_load(&ran_on_blocker) == 1);
  CHECK(sigpending(&p) == 0 && !sigismember(&p, SIGUSR1));
  CHECK(pthread_sigmask(SIG_BLOCK, &s, NULL) == 0);
  atomic_store(&step, 3);
  while (atomic_load(&step) < 4) sleep_ms(1);
  return NULL;
}

int main(void) {
  on(SIGUSR1, on_usr1, SA_RESTART);
  /* inheritance */
  sigset_t s, old;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  CHECK(pthread_sigmask(SIG_BLOCK, &s, &old) == 0);
  CHECK(!sigismember(&old, SIGUSR2));
  pthread_t t;
  void* r;
  CHECK(pthread_create(&t, NULL, inherits, NULL) == 0 && pthread_join(t, &r) == 0);
  CHECK((long)r == 1);
  CHECK(pthread_sigmask(SIG_UNBLOCK, &s, NULL) == 0);
  CHECK(pthread_create(&t, NULL, inherits, NULL) == 0 && pthread_join(t, &r) == 0);
  CHECK((long)r == 0);
  CHECK(pthread_sigmask(12345, &s, NULL) == EINVAL);
  CHECK(sigprocmask(12345, &s, NULL) == -1);
  /* SIGKILL and SIGSTOP cannot be blocked (silently ignored) */
  sigfillset(&s);
  CHECK(pthread_sigmask(SIG_SETMASK, &s, &old) == 0);
  CHECK(!blocked_here(SIGKILL) && !blocked_here(SIGSTOP) && blocked_here(SIGUSR1));
  CHECK(pthread_sigmask(SIG_SETMASK, &old, NULL) == 0);

  /* per-thread masks and pending delivery */
  CHECK(pthread_create(&blocker, NULL, blocking_thread, NULL) == 0);
  while (atomic_load(&step) < 1) sleep_ms(1);
  CHECK(!blocked_here(SIGUSR1)); /* main's mask did not change */
  CHECK(pthread_kill(blocker, SIGUSR1) == 0);
  sleep_ms(50);
  CHECK(atomic_load(&ran_total) == 0);
  atomic_store(&step, 2);
  while (atomic_load(&step) < 3) sleep_ms(1);
  /* the blocker blocks SIGUSR1 again; a process-directed SIGUSR1 must run
   * on a thread that does not block it */
  for (int i = 0; i < 20; i++) {
    int before = atomic_load(&ran_total);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    for (int k = 0; k < 10000 && atomic_load(&ran_total) == before; k++) sleep_ms(1);
  }
  CHECK(atomic_load(&ran_on_blocker) == 1);
  CHECK(atomic_load(&ran_elsewhere) == 20);
  atomic_store(&step, 4);
  CHECK(pthread_join(blocker, NULL) == 0);
  printf("masks: ok\n");
  return 0;
}
