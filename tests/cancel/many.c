/* Many threads cancelled at once, and cancellations racing with wake-ups.
 *   1. N threads wait in sleep, a condition wait, a pipe read, sem_wait or
 *      poll; all are cancelled and joined: every one ends PTHREAD_CANCELED
 *      with its handler run. With a second argument MAX, the kernel must
 *      have seen at most MAX threads meanwhile (under libgreen: waiting
 *      threads are parked, no OS thread each).
 *   2. N threads in sem_wait while N/2 posts and N cancellations race:
 *      each thread either got a token or was cancelled, and no token is
 *      lost or taken twice (what is left is N/2 minus the takers).
 *   3. N threads in a condition-wait loop while a broadcast and N
 *      cancellations race: every thread ends, either way, and each
 *      cancelled one held the mutex in its handler.
 * Usage: many N [MAX] */
#define _GNU_SOURCE
#include <poll.h>
#include <stdatomic.h>

#include "common.h"

static int n;
static atomic_int cleaned, blocked_count;
static int pipefd[2];
static sem_t sem;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static volatile int flag;

static void count(void* arg) {
  (void)arg;
  atomic_fetch_add(&cleaned, 1);
}
static void unlock(void* arg) {
  (void)arg;
  atomic_fetch_add(&cleaned, pthread_mutex_unlock(&mu) == 0 ? 1 : 1000000);
}

static void* waiter(void* arg) {
  /* Linux allows an fd to be watched through at most 500 epoll instances
   * nested in another one (libgreen's poll does that): 400 pollers. */
  long i = (long)arg;
  volatile long kind = i % 5 == 4 && i >= 2000 ? i % 4 : i % 5;
  char b;
  struct pollfd p = {pipefd[0], POLLIN, 0};
  pthread_cleanup_push(count, NULL);
  atomic_fetch_add(&blocked_count, 1);
  switch (kind) {
    case 0: sleep(1000); break;
    case 1:
      pthread_mutex_lock(&mu);
      pthread_cleanup_push(unlock, NULL);
      atomic_fetch_sub(&cleaned, 1);  /* unlock() counts this one instead */
      pthread_cond_wait(&cv, &mu);
      pthread_cleanup_pop(1);
      break;
    case 2: (void)!read(pipefd[0], &b, 1); break;
    case 3: sem_wait(&sem); break;
    case 4: poll(&p, 1, -1); break;
  }
  pthread_cleanup_pop(0);
  return (void*)1;
}

static void phase_cancel_all(int max) {
  pthread_t* t = calloc((size_t)n, sizeof *t);
  atomic_store(&cleaned, 0);
  atomic_store(&blocked_count, 0);
  for (long i = 0; i < n; i++)
    if (pthread_create(&t[i], NULL, waiter, (void*)i)) {
      CHECK(0, "pthread_create %ld", i);
      exit(1);
    }
  while (atomic_load(&blocked_count) < n) usleep(1000);
  let_it_block();
  int threads = kernel_threads();
  printf("THREADS %d (all %d waiting)\n", threads, n);
  CHECK(max <= 0 || threads <= max, "the kernel saw %d threads, bound %d", threads, max);
  for (int i = 0; i < n; i++) pthread_cancel(t[i]);
  int canceled = 0;
  for (int i = 0; i < n; i++) {
    void* r;
    pthread_join(t[i], &r);
    canceled += r == PTHREAD_CANCELED;
  }
  CHECK(canceled == n, "%d of %d cancelled", canceled, n);
  CHECK(atomic_load(&cleaned) == n, "handlers: %d for %d threads", atomic_load(&cleaned), n);
  free(t);
}

static void* taker(void* arg) {
  (void)arg;
  atomic_fetch_add(&blocked_count, 1);
  sem_wait(&sem);
  return (void*)1;
}

static void phase_sem_race(void) {
  pthread_t* t = calloc((size_t)n, sizeof *t);
  sem_destroy(&sem);
  sem_init(&sem, 0, 0);
  atomic_store(&blocked_count, 0);
  for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, taker, NULL);
  while (atomic_load(&blocked_count) < n) usleep(1000);
  for (int i = 0; i < n; i++) {
    if (i % 2 == 0) sem_post(&sem);
    pthread_cancel(t[i]);
  }
  int took = 0, canceled = 0;
  for (int i = 0; i < n; i++) {
    void* r;
    pthread_join(t[i], &r);
    took += r == (void*)1;
    canceled += r == PTHREAD_CANCELED;
  }
  int left = -1;
  sem_getvalue(&sem, &left);
  printf("sem race: %d took a token, %d cancelled, %d tokens left\n", took, canceled, left);
  CHECK(took + canceled == n, "%d + %d != %d", took, canceled, n);
  CHECK(left == (n + 1) / 2 - took, "tokens: %d posted, %d taken, %d left", (n + 1) / 2, took,
        left);
  free(t);
}

static void* cond_loop(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  pthread_cleanup_push(unlock, NULL);
  atomic_fetch_add(&blocked_count, 1);
  while (!flag) pthread_cond_wait(&cv, &mu);
  pthread_cleanup_pop(1);
  return (void*)1;
}

static void phase_cond_race(void) {
  pthread_t* t = calloc((size_t)n, sizeof *t);
  atomic_store(&cleaned, 0);
  atomic_store(&blocked_count, 0);
  flag = 0;
  for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, cond_loop, NULL);
  while (atomic_load(&blocked_count) < n) usleep(1000);
  for (int i = 0; i < n; i++) {
    if (i == n / 2) {
      pthread_mutex_lock(&mu);
      flag = 1;
      pthread_cond_broadcast(&cv);
      pthread_mutex_unlock(&mu);
    }
    pthread_cancel(t[i]);
  }
  int done = 0, canceled = 0;
  for (int i = 0; i < n; i++) {
    void* r;
    pthread_join(t[i], &r);
    done += r == (void*)1;
    canceled += r == PTHREAD_CANCELED;
  }
  printf("cond race: %d returned, %d cancelled\n", done, canceled);
  CHECK(done + canceled == n, "%d + %d != %d", done, canceled, n);
  CHECK(atomic_load(&cleaned) == n, "handlers holding the mutex: %d of %d", atomic_load(&cleaned),
        n);
  free(t);
}

int main(int argc, char** argv) {
  n = argc > 1 ? atoi(argv[1]) : 1000;
  int max = argc > 2 ? atoi(argv[2]) : 0;
  if (pipe(pipefd)) return 1;
  sem_init(&sem, 0, 0);
  pthread_mutexattr_t a;  /* unlock by a thread that does not hold it fails */
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
  pthread_mutex_init(&mu, &a);
  phase_cancel_all(max);
  phase_sem_race();
  phase_cond_race();
  printf("%s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
