/* Cleanup handlers, as POSIX and glibc run them: innermost first across
 * nested frames, on cancellation and on pthread_exit (also from main), before
 * key destructors; pthread_cleanup_pop(1) runs one, pop(0) does not; a
 * handler can use cancellation points without being cancelled again;
 * push_defer_np/pop_restore_np switch to deferred and back. run.sh builds it
 * twice: plain C (setjmp + __pthread_register_cancel) and with -fexceptions
 * (the cleanup attribute, run by the unwinder). */
#define _GNU_SOURCE
#include <errno.h>

#include "common.h"

static char trace[64];
static int ntrace;
static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;
static void mark(char c) {
  pthread_mutex_lock(&trace_mu);
  trace[ntrace++] = c;
  trace[ntrace] = 0;
  pthread_mutex_unlock(&trace_mu);
}
static void reset(void) {
  ntrace = 0;
  trace[0] = 0;
}
static void h(void* arg) { mark((char)(long)arg); }

static pthread_key_t key;
static void key_dtor(void* v) { mark((char)(long)v); }

/* ---- nested frames, cancelled while blocked ---- */
static int pipefd[2];
static sem_t started;

static __attribute__((noinline)) void f3(void) {
  pthread_cleanup_push(h, (void*)'C');
  sem_post(&started);
  char b;
  (void)!read(pipefd[0], &b, 1);
  mark('!');  /* never: cancelled in read */
  pthread_cleanup_pop(0);
}
static __attribute__((noinline)) void f2(void) {
  pthread_cleanup_push(h, (void*)'B');
  f3();
  mark('!');
  pthread_cleanup_pop(0);
}
static void* nested(void* arg) {
  (void)arg;
  pthread_setspecific(key, (void*)'K');
  pthread_cleanup_push(h, (void*)'A');
  f2();
  mark('!');
  pthread_cleanup_pop(0);
  return NULL;
}

static void test_nested_cancel(void) {
  reset();
  pthread_t t;
  void* r;
  pthread_create(&t, NULL, nested, NULL);
  sem_wait(&started);
  let_it_block();
  pthread_cancel(t);
  pthread_join(t, &r);
  CHECK(r == PTHREAD_CANCELED, "result %p", r);
  CHECK(!strcmp(trace, "CBAK"), "order of handlers then key destructor: %s", trace);
}

/* ---- pop(1) / pop(0) on the normal path ---- */
static void* popper(void* arg) {
  (void)arg;
  pthread_cleanup_push(h, (void*)'a');
  pthread_cleanup_push(h, (void*)'b');
  pthread_cleanup_push(h, (void*)'c');
  pthread_cleanup_pop(1);
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(1);
  return (void*)5;
}

static void test_pop(void) {
  reset();
  pthread_t t;
  void* r;
  pthread_create(&t, NULL, popper, NULL);
  pthread_join(t, &r);
  CHECK(r == (void*)5, "result %p", r);
  CHECK(!strcmp(trace, "ca"), "pop(1) runs, pop(0) does not: %s", trace);
}

/* ---- pthread_exit ---- */
static __attribute__((noinline)) void exit_deep(void) {
  pthread_cleanup_push(h, (void*)'2');
  pthread_exit((void*)42);
  pthread_cleanup_pop(0);
}
static void* exiter(void* arg) {
  (void)arg;
  pthread_setspecific(key, (void*)'K');
  pthread_cleanup_push(h, (void*)'1');
  exit_deep();
  mark('!');
  pthread_cleanup_pop(0);
  return NULL;
}

static void test_exit(void) {
  reset();
  pthread_t t;
  void* r;
  pthread_create(&t, NULL, exiter, NULL);
  pthread_join(t, &r);
  CHECK(r == (void*)42, "result %p", r);
  CHECK(!strcmp(trace, "21K"), "pthread_exit runs the handlers, then the key destructor: %s",
        trace);
}

/* ---- handlers use cancellation points without being cancelled again ---- */
static void busy_handler(void* arg) {
  (void)arg;
  pthread_testcancel();
  struct timespec t = {0, 1000000};
  int r = nanosleep(&t, NULL);
  mark(r == 0 ? 's' : 'x');
  char b;
  ssize_t n = read(pipefd[0], &b, 1);  /* data is there: returns it */
  mark(n == 1 ? 'r' : 'x');
}
static void* busy(void* arg) {
  (void)arg;
  pthread_cleanup_push(busy_handler, NULL);
  sem_post(&started);
  for (;;) pause();
  pthread_cleanup_pop(0);
  return NULL;
}

static void test_points_in_handler(void) {
  reset();
  pthread_t t;
  void* r;
  pthread_create(&t, NULL, busy, NULL);
  sem_wait(&started);
  (void)!write(pipefd[1], "y", 1);
  let_it_block();
  pthread_cancel(t);
  pthread_join(t, &r);
  CHECK(r == PTHREAD_CANCELED, "result %p", r);
  CHECK(!strcmp(trace, "sr"), "points inside a handler work normally: %s", trace);
}

/* ---- push_defer_np / pop_restore_np ---- */
static void* deferrer(void* arg) {
  (void)arg;
  int old, type;
  pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &old);
  pthread_cleanup_push_defer_np(h, (void*)'d');
  pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &type);
  mark(type == PTHREAD_CANCEL_DEFERRED ? 'D' : 'x');
  pthread_cleanup_pop_restore_np(1);
  pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, &type);
  mark(type == PTHREAD_CANCEL_ASYNCHRONOUS ? 'A' : 'x');
  return NULL;
}

static void test_defer(void) {
  reset();
  pthread_t t;
  pthread_create(&t, NULL, deferrer, NULL);
  pthread_join(t, NULL);
  CHECK(!strcmp(trace, "DdA"), "push_defer_np makes it deferred, pop_restore_np restores: %s",
        trace);
}

/* ---- pthread_exit from main: its handlers run, the process lives on ---- */
static void* survivor(void* arg) {
  (void)arg;
  for (int i = 0; i < 5000 && !strchr(trace, 'M'); i++) usleep(1000);
  CHECK(!strcmp(trace, "M"), "main's handler ran: %s", trace);
  printf("%s\n", failures ? "FAILED" : "ok");
  fflush(stdout);
  exit(failures != 0);
}

int main(void) {
  pthread_key_create(&key, key_dtor);
  sem_init(&started, 0, 0);
  if (pipe(pipefd)) return 1;
  test_nested_cancel();
  test_pop();
  test_exit();
  test_points_in_handler();
  test_defer();
  reset();
  pthread_t t;
  pthread_create(&t, NULL, survivor, NULL);
  pthread_cleanup_push(h, (void*)'M');
  pthread_exit(NULL);
  pthread_cleanup_pop(0);
  return 1;
}
