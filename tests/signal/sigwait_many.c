/* sigwait_many: 1,000 threads wait in sigtimedwait for SIGUSR1 (blocked by
 * all) at once: natively one kernel thread each; a drop-in runtime parks
 * them. A process SIGUSR1 is taken by exactly one of them; a pthread_kill
 * reaches exactly the thread it names; the others time out with EAGAIN.
 * Prints PEAK_THREADS (kernel threads while all wait) for run.sh. */
#include "common.h"
#include "../include/kthreads.h"

#define N 1000
static atomic_int waiting, got_any, got_named, timed_out;
static pthread_t named;

static void* waiter(void* arg) {
  sigset_t* set = arg;
  siginfo_t si;
  double end = now_s() + 3;
  atomic_fetch_add(&waiting, 1);
  for (;;) {
    double left = end - now_s();
    struct timespec ts = {0, 0};
    if (left > 0) ts = (struct timespec){(time_t)left, (long)((left - (time_t)left) * 1e9)};
    int r = sigtimedwait(set, &si, &ts);
    if (r == SIGUSR1) {
      if (pthread_equal(pthread_self(), named))
        atomic_fetch_add(&got_named, 1);
      else
        atomic_fetch_add(&got_any, 1);
      return NULL;
    }
    /* Linux wakes waiters that lose the race for a process signal with
     * EINTR: wait again for the rest of the time */
    if (r == -1 && errno == EINTR) continue;
    if (r != -1 || errno != EAGAIN) fprintf(stderr, "sigtimedwait: %d, %s\n", r, strerror(errno));
    CHECK(r == -1 && errno == EAGAIN);
    atomic_fetch_add(&timed_out, 1);
    return NULL;
  }
}

int main(void) {
  static sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 << 10);
  pthread_t t[N];
  for (int i = 0; i < N; i++) CHECK(pthread_create(&t[i], &a, waiter, &set) == 0);
  named = t[N / 2];
  while (atomic_load(&waiting) < N) sleep_ms(1);
  sleep_ms(200); /* all inside sigtimedwait now */
  printf("PEAK_THREADS %d\n", kernel_threads());
  CHECK(pthread_kill(named, SIGUSR1) == 0);
  while (atomic_load(&got_named) < 1) sleep_ms(1);
  CHECK(kill(getpid(), SIGUSR1) == 0);
  for (int i = 0; i < N; i++) CHECK(pthread_join(t[i], NULL) == 0);
  CHECK(atomic_load(&got_any) == 1 && atomic_load(&got_named) == 1);
  CHECK(atomic_load(&timed_out) == N - 2);
  printf("sigwait_many: ok (%d waiters: 1 took the process signal, 1 its own, %d timed out)\n", N,
         N - 2);
  return 0;
}
