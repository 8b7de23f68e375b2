/* c11: <threads.h> end to end: thrd_create/join with results, detach, exit,
 * current/equal, sleep, yield; mtx plain/recursive/timed with thrd_busy and
 * thrd_timedout; cnd wait/signal/broadcast/timedwait; tss with destructors;
 * call_once. glibc implements these with internal calls, so under libgreen
 * they must be interposed to run as green threads at all: with an argument,
 * 100 blocked C11 threads must leave at most that many kernel threads. */
#define _GNU_SOURCE
#include <threads.h>

#include "common.h"

static mtx_t mu;
static cnd_t cv;
static long counter;
static int ready_count, go;

static int adder(void* arg) {
  for (int i = 0; i < 10000; i++) {
    mtx_lock(&mu);
    counter++;
    mtx_unlock(&mu);
  }
  return (int)(long)arg;
}

static int exiter(void* arg) {
  (void)arg;
  thrd_exit(42);
}

static int cnd_waiter(void* arg) {
  (void)arg;
  mtx_lock(&mu);
  ready_count++;
  cnd_broadcast(&cv);
  while (!go) cnd_wait(&cv, &mu);
  mtx_unlock(&mu);
  return 7;
}

static tss_t key;
static int dtor_calls;
static void dtor(void* v) { __atomic_add_fetch(&dtor_calls, (int)(long)v, __ATOMIC_SEQ_CST); }
static int tss_user(void* arg) {
  CHECK(tss_get(key) == NULL);
  CHECK(tss_set(key, arg) == thrd_success);
  CHECK(tss_get(key) == arg);
  return 0;
}

static once_flag once = ONCE_FLAG_INIT;
static int once_runs;
static void init_once(void) { once_runs++; }
static int once_user(void* arg) {
  (void)arg;
  call_once(&once, init_once);
  return 0;
}

static thrd_t main_thrd;
static int self_check(void* arg) {
  (void)arg;
  CHECK(!thrd_equal(thrd_current(), main_thrd));
  thrd_yield();
  return 0;
}

static mtx_t held;
static int try_held(void* arg) {
  (void)arg;
  int r = mtx_trylock(&held);
  CHECK(r == thrd_busy);
  struct timespec t = after_ms(CLOCK_REALTIME, 20);
  r = mtx_timedlock(&held, &t);
  CHECK(r == thrd_timedout);
  CHECK(now_ns(CLOCK_REALTIME) >= ts_ns(&t));
  return 0;
}

/* c11 [max_kernel_threads] */
int main(int argc, char** argv) {
  int max_threads = argc > 1 ? atoi(argv[1]) : 0;
  main_thrd = thrd_current();
  CHECK(thrd_equal(main_thrd, thrd_current()));
  CHECK(mtx_init(&mu, mtx_plain) == thrd_success);
  CHECK(cnd_init(&cv) == thrd_success);

  thrd_t t[100];
  for (long i = 0; i < 20; i++) CHECK(thrd_create(&t[i], adder, (void*)i) == thrd_success);
  for (long i = 0; i < 20; i++) {
    int res = -1;
    CHECK(thrd_join(t[i], &res) == thrd_success);
    CHECK(res == i);
  }
  CHECK(counter == 20 * 10000);

  thrd_t e;
  int res = 0;
  CHECK(thrd_create(&e, exiter, NULL) == thrd_success);
  CHECK(thrd_join(e, &res) == thrd_success);
  CHECK(res == 42);

  CHECK(thrd_create(&e, self_check, NULL) == thrd_success);
  CHECK(thrd_detach(e) == thrd_success);

  for (int i = 0; i < 100; i++) CHECK(thrd_create(&t[i], cnd_waiter, NULL) == thrd_success);
  mtx_lock(&mu);
  while (ready_count < 100) cnd_wait(&cv, &mu);
  /* 100 C11 threads blocked: the kernel sees them only if they are OS threads */
  int k = kernel_threads();
  if (max_threads && k > max_threads) fprintf(stderr, "%d kernel threads > %d\n", k, max_threads);
  CHECK(!max_threads || k <= max_threads);
  go = 1;
  cnd_broadcast(&cv);
  mtx_unlock(&mu);
  for (int i = 0; i < 100; i++) {
    CHECK(thrd_join(t[i], &res) == thrd_success);
    CHECK(res == 7);
  }

  /* timed condvar wait times out, not early */
  mtx_lock(&mu);
  struct timespec ts = after_ms(CLOCK_REALTIME, 30);
  CHECK(cnd_timedwait(&cv, &mu, &ts) == thrd_timedout);
  CHECK(now_ns(CLOCK_REALTIME) >= ts_ns(&ts));
  mtx_unlock(&mu);

  /* recursive and timed mutexes */
  mtx_t rec;
  CHECK(mtx_init(&rec, mtx_plain | mtx_recursive) == thrd_success);
  CHECK(mtx_lock(&rec) == thrd_success);
  CHECK(mtx_lock(&rec) == thrd_success);
  CHECK(mtx_trylock(&rec) == thrd_success);
  CHECK(mtx_unlock(&rec) == thrd_success);
  CHECK(mtx_unlock(&rec) == thrd_success);
  CHECK(mtx_unlock(&rec) == thrd_success);
  mtx_destroy(&rec);
  CHECK(mtx_init(&held, mtx_timed) == thrd_success);
  CHECK(mtx_lock(&held) == thrd_success);
  CHECK(thrd_create(&e, try_held, NULL) == thrd_success);
  CHECK(thrd_join(e, NULL) == thrd_success);
  CHECK(mtx_unlock(&held) == thrd_success);
  mtx_destroy(&held);

  /* thread-specific storage with destructors */
  CHECK(tss_create(&key, dtor) == thrd_success);
  for (long i = 0; i < 10; i++) CHECK(thrd_create(&t[i], tss_user, (void*)(i + 1)) == thrd_success);
  for (int i = 0; i < 10; i++) CHECK(thrd_join(t[i], NULL) == thrd_success);
  CHECK(dtor_calls == 55);
  tss_delete(key);

  for (int i = 0; i < 50; i++) CHECK(thrd_create(&t[i], once_user, NULL) == thrd_success);
  for (int i = 0; i < 50; i++) CHECK(thrd_join(t[i], NULL) == thrd_success);
  CHECK(once_runs == 1);

  struct timespec d = {0, 20 * 1000000L};
  long long t0 = now_ns(CLOCK_MONOTONIC);
  CHECK(thrd_sleep(&d, NULL) == 0);
  CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 20 * 1000000LL);
  struct timespec bad = {0, -1};
  CHECK(thrd_sleep(&bad, NULL) == -2);

  cnd_destroy(&cv);
  mtx_destroy(&mu);
  return finish("c11");
}
