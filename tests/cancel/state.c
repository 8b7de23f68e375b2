/* Cancel state and type, as glibc: a cancellation requested while disabled
 * waits (the thread blocks at cancellation points as usual) and is acted on
 * at the first point after re-enabling, not by the enabling itself;
 * asynchronous cancellation acts at once, also on a thread that computes
 * without calling anything; self-cancellation; return values and errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>

#include "common.h"

static sem_t started, go;
static volatile int stage;
static int cleaned;
static void h(void* arg) {
  (void)arg;
  cleaned++;
}

/* ---- disabled, then enabled ---- */
static void* disabled(void* arg) {
  (void)arg;
  int old = -1;
  CHECK(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old) == 0 && old == PTHREAD_CANCEL_ENABLE,
        "old state %d", old);
  pthread_cleanup_push(h, NULL);
  sem_post(&started);
  sem_wait(&go);           /* a point, but disabled: waits for the post */
  usleep(1000);            /* idem: sleeps */
  pthread_testcancel();    /* idem: nothing */
  stage = 1;
  CHECK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old) == 0 && old == PTHREAD_CANCEL_DISABLE,
        "old state %d", old);
  stage = 2;               /* enabling is not a point (deferred type) */
  pthread_testcancel();
  stage = 3;
  pthread_cleanup_pop(0);
  return NULL;
}

static void test_disabled(void) {
  pthread_t t;
  void* r;
  cleaned = 0;
  stage = 0;
  pthread_create(&t, NULL, disabled, NULL);
  sem_wait(&started);
  CHECK(pthread_cancel(t) == 0, "cancel");
  CHECK(pthread_cancel(t) == 0, "a second cancel is fine too");
  let_it_block();
  CHECK(stage == 0, "went on before the post: %d", stage);
  sem_post(&go);
  pthread_join(t, &r);
  CHECK(r == PTHREAD_CANCELED, "result %p", r);
  CHECK(stage == 2, "acted on at the first point after enabling, stage %d", stage);
  CHECK(cleaned == 1, "handler ran %d times", cleaned);
}

/* ---- disabled while blocked: the wait is not interrupted ---- */
static void* disabled_blocked(void* arg) {
  (void)arg;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
  sem_post(&started);
  int r = sem_wait(&go);
  stage = r == 0 ? 10 : -1;
  pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
  sleep(100);
  stage = -2;
  return NULL;
}

static void test_disabled_blocked(void) {
  pthread_t t;
  void* r;
  stage = 0;
  pthread_create(&t, NULL, disabled_blocked, NULL);
  sem_wait(&started);
  let_it_block();
  pthread_cancel(t);
  let_it_block();
  CHECK(stage == 0, "a disabled thread's wait was interrupted: %d", stage);
  sem_post(&go);
  pthread_join(t, &r);
  CHECK(r == PTHREAD_CANCELED && stage == 10, "result %p stage %d", r, stage);
}

/* ---- self-cancellation, deferred ---- */
static void* self(void* arg) {
  (void)arg;
  CHECK(pthread_cancel(pthread_self()) == 0, "self-cancel");
  stage = 1;  /* deferred: goes on until a point */
  pthread_testcancel();
  stage = 2;
  return NULL;
}

static void test_self(void) {
  pthread_t t;
  void* r;
  stage = 0;
  pthread_create(&t, NULL, self, NULL);
  pthread_join(t, &r);
  CHECK(r == PTHREAD_CANCELED && stage == 1, "result %p stage %d", r, stage);
}

/* ---- asynchronous: a pure computation is cancelled ---- */
static atomic_long spins;
static void* computer(void* arg) {
  (void)arg;
  int old = -1;
  pthread_cleanup_push(h, NULL);
  CHECK(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old) == 0 &&
            old == PTHREAD_CANCEL_DEFERRED, "old type %d", old);
  sem_post(&started);
  for (;;) atomic_fetch_add_explicit(&spins, 1, memory_order_relaxed);
  pthread_cleanup_pop(0);
  return NULL;
}

static void test_async_compute(void) {
  pthread_t t;
  void* r;
  cleaned = 0;
  pthread_create(&t, NULL, computer, NULL);
  sem_wait(&started);
  /* Let it compute for a while; yielding (not sleeping) keeps this thread
   * runnable, so a single-CPU runtime has to preempt the computation. */
  long seen = atomic_load(&spins);
  while (atomic_load(&spins) < seen + 1000000) sched_yield();
  pthread_cancel(t);
  pthread_join(t, &r);
  CHECK(r == PTHREAD_CANCELED, "result %p", r);
  CHECK(cleaned == 1, "handler ran %d times", cleaned);
}

/* ---- asynchronous with a pending request: acts at the type change ---- */
static void* late_async(void* arg) {
  (void)arg;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
  sem_post(&started);
  sem_wait(&go);
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
  stage = 1;
  pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);  /* async + pending: acts here */
  stage = 2;
  return NULL;
}

static void test_async_pending(void) {
  pthread_t t;
  void* r;
  stage = 0;
  pthread_create(&t, NULL, late_async, NULL);
  sem_wait(&started);
  pthread_cancel(t);
  sem_post(&go);
  pthread_join(t, &r);
  CHECK(r == PTHREAD_CANCELED && stage == 1, "result %p stage %d", r, stage);
}

/* ---- errors and finished threads ---- */
static void* quick(void* arg) { return arg; }

static void test_errors(void) {
  int old = 12345;
  CHECK(pthread_setcancelstate(7, &old) == EINVAL && old == 12345, "bad state");
  CHECK(pthread_setcanceltype(7, &old) == EINVAL && old == 12345, "bad type");
  CHECK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL) == 0, "NULL old state");
  CHECK(pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL) == 0, "NULL old type");
  pthread_t t;
  void* r;
  pthread_create(&t, NULL, quick, (void*)9);
  usleep(20000);  /* it has finished, not been joined */
  CHECK(pthread_cancel(t) == 0, "cancel of a finished thread");
  pthread_join(t, &r);
  CHECK(r == (void*)9, "a finished thread keeps its result: %p", r);
}

int main(void) {
  sem_init(&started, 0, 0);
  sem_init(&go, 0, 0);
  test_disabled();
  test_disabled_blocked();
  test_self();
  test_async_compute();
  test_async_pending();
  test_errors();
  printf("%s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
