/* suspend: sigsuspend and pause wait for a handler to run, as Linux has
 * them:
 *  - main in sigsuspend(empty set) while other threads sleep: a process
 *    signal (alarm) interrupts main (Linux prefers the main thread), EINTR
 *    with the handler run on main, and the sleepers are not interrupted;
 *    the same with pause(); each round starts with a sem_wait that an
 *    alarm interrupts (regression: main then often sat on another OS
 *    thread, the alarm went to an idle one, and libgreen interrupted a
 *    sleeper instead of main's sigsuspend, which waited for ever);
 *  - the classic pattern: every thread blocks SIGUSR1, a worker waits with
 *    sigsuspend(set without SIGUSR1), main sends kill(getpid(), SIGUSR1):
 *    only the worker can take it, its handler runs on the worker, EINTR,
 *    and its own mask is back (SIGUSR1 blocked) afterwards.
 * A watchdog ends the program with a message if a wait never returns. */
#include <semaphore.h>

#include "common.h"

static atomic_int handled;
static pthread_t handled_on;
static void on_sig(int sig) {
  (void)sig;
  handled_on = pthread_self();
  atomic_fetch_add(&handled, 1);
}

static atomic_int stop, sleeper_eintr;
static void* sleeper(void* arg) {
  (void)arg;
  while (!atomic_load(&stop)) {
    struct timespec d = {0, 500 * 1000000};  // long naps: Ms idle meanwhile
    if (nanosleep(&d, NULL) != 0 && errno == EINTR) atomic_fetch_add(&sleeper_eintr, 1);
  }
  return NULL;
}

static const char* step = "start";
static void* watchdog(void* arg) {
  (void)arg;
  sleep(20);
  fprintf(stderr, "suspend: step '%s' never returned\n", step);
  _exit(1);
}

static void arm_alarm_ms(int ms) {
  struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

static atomic_int worker_ready;
static void* usr1_worker(void* arg) {
  (void)arg;
  sigset_t none;
  sigemptyset(&none);
  atomic_store(&worker_ready, 1);
  int r = sigsuspend(&none);
  CHECK(r == -1 && errno == EINTR);
  CHECK(atomic_load(&handled) == 1);
  CHECK(pthread_equal(handled_on, pthread_self()));
  sigset_t now;
  CHECK(pthread_sigmask(SIG_SETMASK, NULL, &now) == 0);
  CHECK(sigismember(&now, SIGUSR1));
  return NULL;
}

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  CHECK(pthread_sigmask(SIG_BLOCK, &usr1, NULL) == 0);  // in every thread from here on
  pthread_t dog, s[3];
  CHECK(pthread_create(&dog, NULL, watchdog, NULL) == 0);
  CHECK(pthread_detach(dog) == 0);
  for (int i = 0; i < 3; i++) CHECK(pthread_create(&s[i], NULL, sleeper, NULL) == 0);

  // Rounds of: sem_wait interrupted by alarm (no SA_RESTART: EINTR; main
  // resumes from a handler, often on another OS thread than the process's
  // first), then sigsuspend, then pause, each interrupted by the next alarm.
  sem_t never;
  CHECK(sem_init(&never, 0, 0) == 0);
  sigset_t none;
  sigemptyset(&none);
  for (int round = 0; round < 5; round++) {
    int before = atomic_load(&handled);
    on(SIGALRM, on_sig, 0);
    step = "sem_wait in main";
    arm_alarm_ms(50);
    int r = sem_wait(&never);
    CHECK(r == -1 && errno == EINTR);
    on(SIGALRM, on_sig, SA_RESTART);  // sigsuspend and pause return EINTR even so
    step = "sigsuspend in main";
    arm_alarm_ms(50);
    r = sigsuspend(&none);
    CHECK(r == -1 && errno == EINTR);
    CHECK(pthread_equal(handled_on, pthread_self()));
    step = "pause in main";
    arm_alarm_ms(50);
    r = pause();
    CHECK(r == -1 && errno == EINTR);
    CHECK(pthread_equal(handled_on, pthread_self()));
    CHECK(atomic_load(&handled) == before + 3);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 3; i++) CHECK(pthread_join(s[i], NULL) == 0);
  CHECK(atomic_load(&sleeper_eintr) == 0);

  step = "sigsuspend in a worker, SIGUSR1 blocked everywhere else";
  atomic_store(&handled, 0);
  on(SIGUSR1, on_sig, 0);
  pthread_t w;
  CHECK(pthread_create(&w, NULL, usr1_worker, NULL) == 0);
  while (!atomic_load(&worker_ready)) sleep_ms(1);
  sleep_ms(50);  // let it reach sigsuspend (if not, SIGUSR1 waits pending for it)
  CHECK(kill(getpid(), SIGUSR1) == 0);
  CHECK(pthread_join(w, NULL) == 0);
  puts("suspend: ok");
  return 0;
}
