/* cond_morph: condition-variable wake-ups that hand waiters over to the
 * mutex (libgreen's broadcast moves them onto the mutex's queue):
 *  - broadcasts with the mutex held wake every waiter, for every mutex kind
 *    (normal, error-checking, recursive, adaptive, robust, process-shared),
 *    round after round, some waiters timed;
 *  - a timed waiter woken before its deadline returns 0 even when it gets
 *    the mutex back only after the deadline;
 *  - a waiter that holds a recursive mutex twice keeps it while it waits,
 *    and a broadcast from a thread that cannot take that mutex wakes it;
 *  - a condvar may be destroyed and its memory reused right after the
 *    broadcast that woke its last waiters. */
#define _GNU_SOURCE
#include "common.h"

#define WAITERS 64
#define ROUNDS 50

static pthread_mutex_t mu;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int round_no, arrived, left, timeouts;

static void* round_waiter(void* arg) {
  long id = (long)arg;
  for (int r = 1; r <= ROUNDS; r++) {
    int e = pthread_mutex_lock(&mu);
    CHECK(e == 0);
    arrived++;
    while (round_no < r) {
      if (id % 3 == 0) {
        struct timespec t = after_ms(CLOCK_REALTIME, 10000);
        e = pthread_cond_timedwait(&cv, &mu, &t);
        if (e == ETIMEDOUT) timeouts++;
        else CHECK(e == 0);
      } else {
        CHECK(pthread_cond_wait(&cv, &mu) == 0);
      }
    }
    left++;
    pthread_mutex_unlock(&mu);
  }
  return NULL;
}

static void rounds_with(int type, int robust, int pshared) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, type);
  pthread_mutexattr_setrobust(&a, robust ? PTHREAD_MUTEX_ROBUST : PTHREAD_MUTEX_STALLED);
  pthread_mutexattr_setpshared(&a, pshared ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE);
  DIE_IF(pthread_mutex_init(&mu, &a));
  pthread_mutexattr_destroy(&a);
  round_no = arrived = left = timeouts = 0;
  pthread_t t[WAITERS];
  for (long i = 0; i < WAITERS; i++) DIE_IF(pthread_create(&t[i], NULL, round_waiter, (void*)i));
  for (int r = 1; r <= ROUNDS; r++) {
    for (;;) { /* everyone is waiting for round r (or past its check) */
      pthread_mutex_lock(&mu);
      if (arrived == r * WAITERS) break;
      pthread_mutex_unlock(&mu);
      sched_yield();
    }
    round_no = r;
    CHECK(pthread_cond_broadcast(&cv) == 0);
    pthread_mutex_unlock(&mu);
  }
  for (int i = 0; i < WAITERS; i++) pthread_join(t[i], NULL);
  CHECK(left == ROUNDS * WAITERS);
  CHECK(timeouts == 0);
  CHECK(pthread_mutex_destroy(&mu) == 0);
}

/* Woken before the deadline, relocked after it: 0, not ETIMEDOUT. */
static int late_result = -1, late_waiting;
static void* late_waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  struct timespec t = after_ms(CLOCK_REALTIME, 100);
  late_waiting = 1;
  late_result = pthread_cond_timedwait(&cv, &mu, &t);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void woken_then_relocked_late(void) {
  pthread_mutex_init(&mu, NULL);
  late_waiting = 0;
  pthread_t t;
  DIE_IF(pthread_create(&t, NULL, late_waiter, NULL));
  for (;;) {
    pthread_mutex_lock(&mu);
    if (late_waiting) break;
    pthread_mutex_unlock(&mu);
    usleep(1000);
  }
  pthread_cond_broadcast(&cv);
  usleep(300 * 1000); /* hold the mutex well past the waiter's deadline */
  pthread_mutex_unlock(&mu);
  pthread_join(t, NULL);
  CHECK_ERR(late_result, 0);
}

/* The waiter holds a recursive mutex twice: it keeps it while it waits. */
static pthread_mutex_t rec;
static int rec_waiting, rec_done;
static void* rec_waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&rec);
  pthread_mutex_lock(&rec);
  __atomic_store_n(&rec_waiting, 1, __ATOMIC_RELEASE);
  struct timespec t = after_ms(CLOCK_REALTIME, 20000);
  CHECK_ERR(pthread_cond_timedwait(&cv, &rec, &t), 0);
  CHECK_ERR(pthread_mutex_unlock(&rec), 0);
  CHECK_ERR(pthread_mutex_unlock(&rec), 0);
  __atomic_store_n(&rec_done, 1, __ATOMIC_RELEASE);
  return NULL;
}

static void recursive_held_while_waiting(void) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init(&rec, &a);
  pthread_t t;
  DIE_IF(pthread_create(&t, NULL, rec_waiter, NULL));
  while (!__atomic_load_n(&rec_waiting, __ATOMIC_ACQUIRE)) usleep(1000);
  usleep(20000);
  CHECK_ERR(pthread_mutex_trylock(&rec), EBUSY); /* still held by the waiter */
  while (!__atomic_load_n(&rec_done, __ATOMIC_ACQUIRE)) {
    pthread_cond_broadcast(&cv);
    usleep(1000);
  }
  pthread_join(t, NULL);
}

/* Destroy and reuse the memory right after the broadcast. */
struct box {
  pthread_mutex_t m;
  pthread_cond_t c;
  int go, waiting;
};
static void* box_waiter(void* arg) {
  struct box* b = arg;
  pthread_mutex_t* m = &b->m;
  pthread_mutex_lock(m);
  b->waiting++;
  while (!b->go) pthread_cond_wait(&b->c, m);
  pthread_mutex_unlock(m);
  return NULL;
}

static void destroy_after_broadcast(void) {
  for (int r = 0; r < 20; r++) {
    struct box* b = calloc(1, sizeof *b);
    pthread_mutex_init(&b->m, NULL);
    pthread_cond_init(&b->c, NULL);
    pthread_t t[8];
    for (int i = 0; i < 8; i++) DIE_IF(pthread_create(&t[i], NULL, box_waiter, b));
    for (;;) {
      pthread_mutex_lock(&b->m);
      if (b->waiting == 8) break;
      pthread_mutex_unlock(&b->m);
      usleep(1000);
    }
    b->go = 1;
    pthread_cond_broadcast(&b->c);
    CHECK_ERR(pthread_cond_destroy(&b->c), 0);
    memset(&b->c, 0xa5, sizeof b->c); /* nobody may read it any more */
    pthread_mutex_unlock(&b->m);
    for (int i = 0; i < 8; i++) pthread_join(t[i], NULL);
    free(b);
  }
}

int main(void) {
  rounds_with(PTHREAD_MUTEX_NORMAL, 0, 0);
  rounds_with(PTHREAD_MUTEX_ERRORCHECK, 0, 0);
  rounds_with(PTHREAD_MUTEX_RECURSIVE, 0, 0);
  rounds_with(PTHREAD_MUTEX_ADAPTIVE_NP, 0, 0);
  rounds_with(PTHREAD_MUTEX_NORMAL, 1, 0);
  rounds_with(PTHREAD_MUTEX_NORMAL, 0, 1);
  woken_then_relocked_late();
  recursive_held_while_waiting();
  destroy_after_broadcast();
  return finish("cond_morph");
}
