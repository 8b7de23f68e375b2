/* prodcons: 8 producers and 8 consumers over a bounded queue (mutex + two
 * condvars, signal and broadcast mixed, some timed waits); every item is
 * consumed exactly once: nothing lost, nothing duplicated. */
#define _GNU_SOURCE
#include "common.h"

#define CAP 16
#define PRODUCERS 8
#define CONSUMERS 8
#define PER_PRODUCER 50000
#define TOTAL (PRODUCERS * PER_PRODUCER)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static int q[CAP], head, len, done_producers;
static unsigned char* seen;
static long dups;

static void* producer(void* arg) {
  int id = (int)(long)arg;
  for (int i = 0; i < PER_PRODUCER; i++) {
    pthread_mutex_lock(&mu);
    while (len == CAP) {
      if (i & 1) {
        pthread_cond_wait(&not_full, &mu);
      } else {
        struct timespec t = after_ms(CLOCK_REALTIME, 5);
        pthread_cond_timedwait(&not_full, &mu, &t);
      }
    }
    q[(head + len++) % CAP] = id * PER_PRODUCER + i;
    if (i % 7 == 0)
      pthread_cond_broadcast(&not_empty);
    else
      pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&mu);
  }
  pthread_mutex_lock(&mu);
  done_producers++;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&mu);
  return NULL;
}

static void* consumer(void* arg) {
  long got = 0;
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&mu);
    while (len == 0 && done_producers < PRODUCERS) pthread_cond_wait(&not_empty, &mu);
    if (len == 0) {
      pthread_mutex_unlock(&mu);
      return (void*)got;
    }
    int v = q[head];
    head = (head + 1) % CAP;
    len--;
    if (seen[v]++) dups++;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&mu);
    got++;
  }
}

int main(void) {
  seen = calloc(TOTAL, 1);
  pthread_t p[PRODUCERS], c[CONSUMERS];
  for (int i = 0; i < CONSUMERS; i++) DIE_IF(pthread_create(&c[i], NULL, consumer, NULL));
  for (int i = 0; i < PRODUCERS; i++) DIE_IF(pthread_create(&p[i], NULL, producer, (void*)(long)i));
  long total = 0;
  for (int i = 0; i < PRODUCERS; i++) pthread_join(p[i], NULL);
  for (int i = 0; i < CONSUMERS; i++) {
    void* r;
    pthread_join(c[i], &r);
    total += (long)r;
  }
  long missing = 0;
  for (int i = 0; i < TOTAL; i++) missing += seen[i] == 0;
  if (total != TOTAL || dups || missing)
    fprintf(stderr, "consumed %ld of %d, %ld duplicated, %ld lost\n", total, TOTAL, dups, missing);
  CHECK(total == TOTAL);
  CHECK(dups == 0);
  CHECK(missing == 0);
  return finish("prodcons");
}
