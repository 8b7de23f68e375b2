/* A busy program for thread dumps taken while everything moves: threads
 * hand a token around a ring of condvars, while others are created and
 * joined all the time, half of them with a stack size of their own (a
 * mapping unmapped when they end). It runs until a line arrives on stdin;
 * run.sh sends GREEN_DUMP_SIGNAL again and again meanwhile. Then it checks
 * its own bookkeeping and exits 0 if it is right.
 * Prints "STARTED" when the ring runs, "total N churned M ok" at the end. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define RING 8

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn[RING];
static int holder;
static long total, passes[RING];
static volatile int stop;

static void* ring_member(void* arg) {
  int me = (int)(long)arg;
  pthread_mutex_lock(&m);
  for (;;) {
    while (holder != me && !stop) pthread_cond_wait(&turn[me], &m);
    if (stop) break;
    total++;
    passes[me]++;
    holder = (me + 1) % RING;
    pthread_cond_signal(&turn[holder]);
  }
  pthread_mutex_unlock(&m);
  return NULL;
}

static __attribute__((noinline)) long deep(int n) {
  volatile long pad[16];
  pad[n % 16] = n;
  return n == 0 ? pad[0] : deep(n - 1) + pad[n % 16];
}

static void* short_lived(void* arg) { return (void*)deep((int)(long)arg); }

static void* wait_for_line(void* arg) {
  char buf[16];
  (void)arg;
  if (read(0, buf, sizeof buf) < 0) perror("read");
  pthread_mutex_lock(&m);
  stop = 1;
  for (int i = 0; i < RING; i++) pthread_cond_broadcast(&turn[i]);
  pthread_mutex_unlock(&m);
  return NULL;
}

int main(void) {
  pthread_t ring[RING], reader;
  for (int i = 0; i < RING; i++) pthread_cond_init(&turn[i], NULL);
  for (int i = 0; i < RING; i++) pthread_create(&ring[i], NULL, ring_member, (void*)(long)i);
  pthread_create(&reader, NULL, wait_for_line, NULL);
  printf("STARTED\n");
  fflush(stdout);
  pthread_attr_t own;
  pthread_attr_init(&own);
  pthread_attr_setstacksize(&own, 128 << 10);
  long churned = 0, sum = 0, want = deep(50);
  do {
    pthread_t t[4];
    void* r;
    for (int k = 0; k < 4; k++) pthread_create(&t[k], k % 2 ? &own : NULL, short_lived, (void*)50L);
    for (int k = 0; k < 4; k++) {
      pthread_join(t[k], &r);
      sum += (long)r;
      churned++;
    }
  } while (!stop);
  pthread_join(reader, NULL);
  long by_member = 0;
  for (int i = 0; i < RING; i++) {
    pthread_join(ring[i], NULL);
    by_member += passes[i];
  }
  int ok = by_member == total && sum == churned * want && churned > 0;
  printf("total %ld churned %ld %s\n", total, churned, ok ? "ok" : "WRONG");
  return ok ? 0 : 1;
}
