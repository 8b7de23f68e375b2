/* Programs that deadlock for good: natively they hang; under libgreen the
 * deadlock is reported (a thread dump naming the functions below), then the
 * program keeps hanging (GREEN_DEADLOCK=report) or aborts (abort).
 *   abba   two named threads lock two mutexes in opposite orders; main
 *          joins them
 *   cond   every thread waits in pthread_cond_wait (never signalled) or in
 *          pthread_join of one that does
 *   sem    main waits in sem_wait; the only other thread joins main
 * Each prints "BLOCKING" once every thread is about to block for good. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold;
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int signalled;
static sem_t nobody_posts;
static pthread_t main_thread;

static __attribute__((noinline)) void* lock_a_then_b(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "ab-worker");
  pthread_mutex_lock(&a);
  pthread_barrier_wait(&both_hold);
  pthread_mutex_lock(&b); /* held by ba-worker, forever */
  pthread_mutex_unlock(&b);
  pthread_mutex_unlock(&a);
  return NULL;
}

static __attribute__((noinline)) void* lock_b_then_a(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "ba-worker");
  pthread_mutex_lock(&b);
  pthread_barrier_wait(&both_hold);
  pthread_mutex_lock(&a); /* held by ab-worker, forever */
  pthread_mutex_unlock(&a);
  pthread_mutex_unlock(&b);
  return NULL;
}

static __attribute__((noinline)) void* wait_for_signal(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "cond-waiter");
  pthread_mutex_lock(&cm);
  while (!signalled) pthread_cond_wait(&never, &cm);
  pthread_mutex_unlock(&cm);
  return NULL;
}

static __attribute__((noinline)) void* join_the_waiter(void* arg) {
  pthread_setname_np(pthread_self(), "joiner");
  void* r = NULL;
  pthread_join(*(pthread_t*)arg, &r);
  return r == NULL ? arg : NULL;
}

static __attribute__((noinline)) void* join_main(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "main-joiner");
  void* r = NULL;
  pthread_join(main_thread, &r);
  return r;
}

static int abba(void) {
  pthread_t t1, t2;
  pthread_barrier_init(&both_hold, NULL, 2);
  pthread_create(&t1, NULL, lock_a_then_b, NULL);
  pthread_create(&t2, NULL, lock_b_then_a, NULL);
  printf("BLOCKING\n");
  fflush(stdout);
  pthread_join(t1, NULL);
  pthread_join(t2, NULL);
  return 0;
}

static int cond(void) {
  pthread_t w[3], j;
  for (int i = 0; i < 3; i++) pthread_create(&w[i], NULL, wait_for_signal, NULL);
  pthread_create(&j, NULL, join_the_waiter, &w[0]);
  printf("BLOCKING\n");
  fflush(stdout);
  pthread_join(j, NULL);
  return 0;
}

static int sem(void) {
  pthread_t t;
  sem_init(&nobody_posts, 0, 0);
  main_thread = pthread_self();
  pthread_create(&t, NULL, join_main, NULL);
  printf("BLOCKING\n");
  fflush(stdout);
  while (sem_wait(&nobody_posts) != 0) {
  }
  return 0;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "abba")) return abba();
  if (!strcmp(mode, "cond")) return cond();
  if (!strcmp(mode, "sem")) return sem();
  fprintf(stderr, "usage: deadlock abba|cond|sem\n");
  return 2;
}
