/* Thread lifecycle and basic synchronisation, errors as glibc returns them. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define CHECK(c, ...) do { if (!(c)) { failures++; fprintf(stderr, "FAIL line %d: %s: ", __LINE__, #c); \
  fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

static volatile int release_it;
static void* wait_release(void* a) { while (!release_it) usleep(1000); return a; }
static void* self_join(void* a) { (void)a; return (void*)(long)pthread_join(pthread_self(), NULL); }
static volatile long detached_done;
static void* detached(void* a) { (void)a; __atomic_add_fetch(&detached_done, 1, __ATOMIC_SEQ_CST); return NULL; }

static pthread_once_t once = PTHREAD_ONCE_INIT;
static volatile int once_runs;
static void init_once(void) { usleep(10000); once_runs++; }
static void* call_once(void* a) { pthread_once(&once, init_once); return a; }

#define QN 8
static int queue[QN], qhead, qtail, qcount;
static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static void* producer(void* a) {
  long base = (long)a;
  for (int i = 0; i < 10000; i++) {
    pthread_mutex_lock(&qm);
    while (qcount == QN) pthread_cond_wait(&not_full, &qm);
    queue[qtail] = (int)(base + i); qtail = (qtail + 1) % QN; qcount++;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&qm);
  }
  return NULL;
}
static void* consumer(void* a) {
  long sum = 0;
  for (int i = 0; i < 10000; i++) {
    pthread_mutex_lock(&qm);
    while (qcount == 0) pthread_cond_wait(&not_empty, &qm);
    sum += queue[qhead]; qhead = (qhead + 1) % QN; qcount--;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&qm);
  }
  (void)a;
  return (void*)sum;
}

static void* stack_probe(void* a) { char local; return (void*)((char*)&local - (char*)a); }

/* Thread-local state of a thread that starts right as its creator blocks
 * (create then join, create then condvar wait) and of the creator after it
 * is woken by that thread's exit or signal. Under libgreen these are the
 * direct G-to-G switches: into a G that never ran, and from an ending G to
 * its joiner. */
static __thread long tl_value = 42;
static pthread_mutex_t hm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hc = PTHREAD_COND_INITIALIZER;
static int h_flag;
static void* fresh_tls(void* a) {
  long bad = tl_value != 42 || errno != 0;
  tl_value = (long)a;
  errno = (int)(long)a;
  return (void*)bad;
}
static void* fresh_signal(void* a) {
  (void)a;
  long bad = tl_value != 42 || errno != 0;
  tl_value = -1;
  errno = EIO;
  pthread_mutex_lock(&hm);
  h_flag = 1;
  pthread_cond_signal(&hc);
  pthread_mutex_unlock(&hm);
  return (void*)bad;
}
static void handoff_tls(void) {
  for (long i = 1; i <= 3000; i++) {
    pthread_t t;
    void* r = (void*)1L;
    tl_value = 1000 + i;
    errno = 0;
    if (i % 2) {
      CHECK(pthread_create(&t, NULL, fresh_tls, (void*)i) == 0, "create %ld", i);
      errno = ENOENT;
      CHECK(pthread_join(t, &r) == 0, "join %ld", i);
    } else {
      pthread_mutex_lock(&hm);
      h_flag = 0;
      CHECK(pthread_create(&t, NULL, fresh_signal, (void*)i) == 0, "create %ld", i);
      while (!h_flag) pthread_cond_wait(&hc, &hm);
      pthread_mutex_unlock(&hm);
      errno = ENOENT;
      CHECK(pthread_join(t, &r) == 0, "join %ld", i);
    }
    CHECK(r == NULL, "thread %ld saw another thread's errno or __thread value", i);
    CHECK(tl_value == 1000 + i && errno == ENOENT, "creator's errno %d / __thread %ld after %ld",
          errno, tl_value, i);
    if (failures) break;
  }
}

int main(void) {
  pthread_t t;
  void* r;
  /* self-join */
  pthread_create(&t, NULL, self_join, NULL);
  pthread_join(t, &r);
  CHECK((long)r == EDEADLK, "self-join gave %ld", (long)r);
  /* tryjoin / timedjoin on a running thread, then join */
  pthread_create(&t, NULL, wait_release, (void*)7L);
  CHECK(pthread_tryjoin_np(t, NULL) == EBUSY, "tryjoin on a running thread");
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 20000000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  CHECK(pthread_timedjoin_np(t, NULL, &ts) == ETIMEDOUT, "timedjoin on a running thread");
  release_it = 1;
  CHECK(pthread_join(t, &r) == 0 && r == (void*)7L, "join result");
  /* detached threads run to completion; joining one is EINVAL */
  pthread_attr_t da;
  pthread_attr_init(&da);
  pthread_attr_setdetachstate(&da, PTHREAD_CREATE_DETACHED);
  release_it = 0;
  pthread_create(&t, &da, wait_release, NULL);
  CHECK(pthread_join(t, NULL) == EINVAL, "join of a detached thread");
  release_it = 1;
  for (int i = 0; i < 10; i++) {
    pthread_create(&t, &da, detached, NULL);
    pthread_t u;
    pthread_create(&u, NULL, detached, NULL);
    CHECK(pthread_detach(u) == 0, "pthread_detach");
  }
  for (int i = 0; i < 2000 && detached_done < 20; i++) usleep(1000);
  CHECK(detached_done == 20, "detached threads finished: %ld", detached_done);
  /* a stack below PTHREAD_STACK_MIN is refused by the attribute */
  pthread_attr_t sa;
  pthread_attr_init(&sa);
  CHECK(pthread_attr_setstacksize(&sa, 1024) == EINVAL, "tiny stack size");
  /* getattr_np reports the stack size asked for */
  pthread_attr_setstacksize(&sa, 256 << 10);
  release_it = 0;
  pthread_create(&t, &sa, wait_release, NULL);
  pthread_attr_t got;
  size_t size = 0;
  CHECK(pthread_getattr_np(t, &got) == 0, "getattr_np");
  pthread_attr_getstacksize(&got, &size);
  CHECK(size >= (256 << 10) && size < (256 << 10) + (64 << 10), "stack size %zu", size);
  /* names round-trip */
  CHECK(pthread_setname_np(t, "worker-7") == 0, "setname");
  char name[16];
  CHECK(pthread_getname_np(t, name, sizeof name) == 0 && !strcmp(name, "worker-7"), "getname %s", name);
  CHECK(pthread_setname_np(t, "a-name-that-is-too-long") == ERANGE, "long name");
  release_it = 1;
  pthread_join(t, NULL);
  /* a user-supplied stack */
  size_t us = 256 << 10;
  char* stack = aligned_alloc(4096, us);
  pthread_attr_t ua;
  pthread_attr_init(&ua);
  pthread_attr_setstack(&ua, stack, us);
  pthread_create(&t, &ua, stack_probe, stack);
  pthread_join(t, &r);
  CHECK((long)r > 0 && (long)r < (long)us, "ran on the user stack (offset %ld)", (long)r);
  /* TLS across create+join and create+condvar hand-overs */
  handoff_tls();
  /* pthread_once under a race */
  pthread_t os[32];
  for (int i = 0; i < 32; i++) pthread_create(&os[i], NULL, call_once, NULL);
  for (int i = 0; i < 32; i++) pthread_join(os[i], NULL);
  CHECK(once_runs == 1, "once ran %d times", once_runs);
  /* producer/consumer loses and duplicates nothing */
  pthread_t p1, p2, c1, c2;
  pthread_create(&p1, NULL, producer, (void*)0L);
  pthread_create(&p2, NULL, producer, (void*)100000L);
  pthread_create(&c1, NULL, consumer, NULL);
  pthread_create(&c2, NULL, consumer, NULL);
  void *s1, *s2;
  pthread_join(p1, NULL); pthread_join(p2, NULL); pthread_join(c1, &s1); pthread_join(c2, &s2);
  long want = 2 * (9999L * 10000 / 2) + 100000L * 10000;
  CHECK((long)s1 + (long)s2 == want, "consumed sum %ld want %ld", (long)s1 + (long)s2, want);
  printf("lifecycle: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
