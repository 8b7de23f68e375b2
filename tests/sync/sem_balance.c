/* sem_balance: 8 posters and 8 waiters on one unnamed semaphore (wait,
 * trywait, timedwait, clockwait mixed): every post is consumed exactly once
 * and the final value is the initial one. Then a semaphore used as a lock
 * keeps a counter exact, and a hand-off chain of semaphores passes a token
 * through 100 threads 100 times. */
#define _GNU_SOURCE
#include <semaphore.h>

#include "common.h"

#define POSTERS 8
#define WAITERS 8
#define PER 20000

static sem_t s, lock;
static long consumed, counter;

static void* poster(void* arg) {
  (void)arg;
  for (int i = 0; i < PER; i++) DIE_IF(sem_post(&s));
  return NULL;
}

static void* waiter(void* arg) {
  (void)arg;
  long got = 0;
  for (int i = 0; i < PER; i++) {
    int r;
    if (i % 4 == 0) {
      while ((r = sem_trywait(&s)) == -1 && errno == EAGAIN) sched_yield();
    } else if (i % 4 == 1) {
      struct timespec t = after_ms(CLOCK_REALTIME, 2);
      while ((r = sem_timedwait(&s, &t)) == -1 && errno == ETIMEDOUT) t = after_ms(CLOCK_REALTIME, 2);
    } else if (i % 4 == 2) {
      struct timespec t = after_ms(CLOCK_MONOTONIC, 2);
      while ((r = sem_clockwait(&s, CLOCK_MONOTONIC, &t)) == -1 && errno == ETIMEDOUT)
        t = after_ms(CLOCK_MONOTONIC, 2);
    } else {
      while ((r = sem_wait(&s)) == -1 && errno == EINTR) {
      }
    }
    if (r == 0) got++;
  }
  __atomic_add_fetch(&consumed, got, __ATOMIC_SEQ_CST);
  return NULL;
}

static void* locker(void* arg) {
  (void)arg;
  for (int i = 0; i < 5000; i++) {
    sem_wait(&lock);
    counter++;
    sem_post(&lock);
  }
  return NULL;
}

#define CHAIN 100
static sem_t chain[CHAIN];
static long passes;
static void* link_fn(void* arg) {
  int me = (int)(long)arg;
  for (int i = 0; i < 100; i++) {
    sem_wait(&chain[me]);
    passes++; /* one token: exclusive */
    sem_post(&chain[(me + 1) % CHAIN]);
  }
  return NULL;
}

int main(void) {
  DIE_IF(sem_init(&s, 0, 3));
  pthread_t p[POSTERS], w[WAITERS];
  for (int i = 0; i < WAITERS; i++) DIE_IF(pthread_create(&w[i], NULL, waiter, NULL));
  for (int i = 0; i < POSTERS; i++) DIE_IF(pthread_create(&p[i], NULL, poster, NULL));
  for (int i = 0; i < POSTERS; i++) pthread_join(p[i], NULL);
  for (int i = 0; i < WAITERS; i++) pthread_join(w[i], NULL);
  int v = -1;
  sem_getvalue(&s, &v);
  if (consumed != WAITERS * PER || v != 3) fprintf(stderr, "consumed %ld, value %d\n", consumed, v);
  CHECK(consumed == WAITERS * PER);
  CHECK(v == 3);

  DIE_IF(sem_init(&lock, 0, 1));
  pthread_t l[50];
  for (int i = 0; i < 50; i++) DIE_IF(pthread_create(&l[i], NULL, locker, NULL));
  for (int i = 0; i < 50; i++) pthread_join(l[i], NULL);
  CHECK(counter == 50 * 5000);

  for (int i = 0; i < CHAIN; i++) DIE_IF(sem_init(&chain[i], 0, i == 0));
  pthread_t c[CHAIN];
  for (int i = 0; i < CHAIN; i++) DIE_IF(pthread_create(&c[i], NULL, link_fn, (void*)(long)i));
  for (int i = 0; i < CHAIN; i++) pthread_join(c[i], NULL);
  CHECK(passes == CHAIN * 100);
  sem_getvalue(&chain[0], &v);
  CHECK(v == 1);
  return finish("sem_balance");
}
