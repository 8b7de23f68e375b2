/* Raw futex calls made through syscall(SYS_futex), as libstdc++, Boost and
 * hand-written lock code make them: on private memory (with and without
 * FUTEX_PRIVATE_FLAG) between threads, and on MAP_SHARED memory between a
 * parent and its forked child. Wake-ups arrive, a changed word gives
 * EAGAIN, a timeout gives ETIMEDOUT. A signal sent to a waiting thread runs
 * its handler at once; the wait then fails with EINTR, or goes on with
 * SA_RESTART.
 * Regression: a waiting G's handler ran only once the wait ended.
 * Regression: each call on a shared-memory word re-read /proc/self/maps to
 * learn the mapping is shared (~100 us each; only private mappings were
 * remembered). The process's read() count (/proc/self/io syscr) over 2,000
 * calls on a shared word must stay small. */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common.h"

static long futex(atomic_int* w, int op, int val, const struct timespec* ts) {
  return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static long read_calls(void) {
  FILE* f = fopen("/proc/self/io", "r");
  char line[128];
  long n = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "syscr: %ld", &n) == 1) break;
  if (f) fclose(f);
  return n;
}

static atomic_int word;
static int op_wait, op_wake;

static void* waiter(void* a) {
  (void)a;
  while (atomic_load(&word) == 0)
    if (futex(&word, op_wait, 0, NULL) && errno != EAGAIN && errno != EINTR) return (void*)1;
  return NULL;
}

/* One thread waits on a private word until another wakes it. */
static void private_wait_wake(int priv) {
  op_wait = FUTEX_WAIT | priv;
  op_wake = FUTEX_WAKE | priv;
  atomic_store(&word, 0);
  pthread_t t;
  DIE_IF(pthread_create(&t, NULL, waiter, NULL));
  usleep(50000);
  atomic_store(&word, 1);
  futex(&word, op_wake, 1, NULL);
  void* r;
  pthread_join(t, &r);
  CHECK(r == NULL);
}

static atomic_int handled;
static void on_usr1(int s) {
  (void)s;
  atomic_fetch_add(&handled, 1);
}
static long sig_r;
static int sig_errno;
static void* wait_once(void* a) {
  (void)a;
  errno = 0;
  sig_r = futex(&word, FUTEX_WAIT_PRIVATE, 0, NULL);
  sig_errno = errno;
  return NULL;
}

/* A signal for a thread waiting on a private word: its handler runs while
 * the wait lasts; then EINTR, or with SA_RESTART the wait goes on. */
static void signal_while_waiting(int flags) {
  struct sigaction sa = {.sa_handler = on_usr1, .sa_flags = flags};
  sigaction(SIGUSR1, &sa, NULL);
  atomic_store(&word, 0);
  atomic_store(&handled, 0);
  pthread_t t;
  DIE_IF(pthread_create(&t, NULL, wait_once, NULL));
  usleep(50000);
  pthread_kill(t, SIGUSR1);
  for (int i = 0; i < 500 && !atomic_load(&handled); i++) usleep(10000);
  CHECK(atomic_load(&handled) == 1);
  usleep(50000);  /* with SA_RESTART it still waits; without, it is back */
  atomic_store(&word, 1);
  futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL);
  pthread_join(t, NULL);
  if (flags & SA_RESTART)
    CHECK(sig_r == 0);
  else
    CHECK(sig_r == -1 && sig_errno == EINTR);
}

int main(void) {
  signal_while_waiting(0);
  signal_while_waiting(SA_RESTART);
  /* private memory, with and without the private flag */
  private_wait_wake(FUTEX_PRIVATE_FLAG);
  private_wait_wake(0);
  atomic_store(&word, 5);
  CHECK(futex(&word, FUTEX_WAIT_PRIVATE, 4, NULL) == -1 && errno == EAGAIN);
  struct timespec short_wait = {0, 20 * 1000 * 1000};
  CHECK(futex(&word, FUTEX_WAIT_PRIVATE, 5, &short_wait) == -1 && errno == ETIMEDOUT);

  /* shared memory between processes */
  atomic_int* shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  DIE_IF(shared == MAP_FAILED);
  atomic_store(shared, 0);
  pid_t child = fork();
  DIE_IF(child < 0);
  if (child == 0) {
    while (atomic_load(shared) == 0)
      if (futex(shared, FUTEX_WAIT, 0, NULL) && errno != EAGAIN && errno != EINTR) _exit(1);
    _exit(atomic_load(shared) == 7 ? 0 : 2);
  }
  usleep(50000);
  atomic_store(shared, 7);
  CHECK(futex(shared, FUTEX_WAKE, 1, NULL) >= 0);
  int st;
  CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK(futex(shared, FUTEX_WAIT, 6, NULL) == -1 && errno == EAGAIN);
  CHECK(futex(shared, FUTEX_WAIT, 7, &short_wait) == -1 && errno == ETIMEDOUT);

  /* 2,000 calls on a shared word: no /proc read each */
  long before = read_calls();
  for (int i = 0; i < 1000; i++) {
    CHECK(futex(shared, FUTEX_WAKE, 1, NULL) == 0);
    CHECK(futex(shared, FUTEX_WAIT, 6, NULL) == -1 && errno == EAGAIN);
  }
  long reads = read_calls() - before;
  if (reads > 100) fprintf(stderr, "2,000 futex calls on shared memory made %ld read() calls\n", reads);
  CHECK(before >= 0 && reads <= 100);

  if (failures) return 1;
  printf("raw_futex: ok (%ld reads for 2,000 shared-word calls)\n", reads);
  return 0;
}
