/* ring [THREADS [HOPS]]: the Benchmarks Game thread ring. THREADS threads
 * (default 503, ids 1..THREADS) sit in a ring, each waiting on its own
 * semaphore; a token holding HOPS (default 1,000,000) is given to thread 1,
 * and each thread that receives it decrements it and posts it to the next,
 * until the thread that receives 0 stops the ring. That must be thread
 * (HOPS mod THREADS) + 1, and every thread must have passed the token its
 * share of times: both are checked. Timed from the first post to the end
 * (threads already created), per hop (one hand-over = one switch):
 *   RESULT name=ring ns_per_op=<ns per hop> ops=<HOPS> winner=<id> */
#include "common.h"

#include <semaphore.h>

static long nthreads;
static sem_t* sem;
static long token, winner;
static long* passes;
static sem_t done;

static void* node(void* arg) {
  long me = (long)arg; /* 0-based; id me + 1 */
  sem_t* next = &sem[(me + 1) % nthreads];
  for (;;) {
    while (sem_wait(&sem[me])) {}
    if (token < 0) { /* stop: pass it on and leave */
      sem_post(next);
      return NULL;
    }
    if (token == 0) {
      winner = me + 1;
      token = -1;
      sem_post(&done);
      sem_post(next);
      return NULL;
    }
    token--;
    passes[me]++;
    sem_post(next);
  }
}

int main(int argc, char** argv) {
  const char* usage = "ring [THREADS>1 [HOPS>0]]";
  nthreads = arg_long(argc, argv, 1, 503, usage);
  long hops = arg_long(argc, argv, 2, 1000000, usage);
  if (nthreads < 2) DIE("usage: %s", usage);
  sem = calloc((size_t)nthreads, sizeof *sem);
  passes = calloc((size_t)nthreads, sizeof *passes);
  pthread_t* t = calloc((size_t)nthreads, sizeof *t);
  if (!sem || !passes || !t) DIE("ring: no memory");
  sem_init(&done, 0, 0);
  for (long i = 0; i < nthreads; i++) sem_init(&sem[i], 0, 0);
  for (long i = 0; i < nthreads; i++) {
    int e = pthread_create(&t[i], NULL, node, (void*)i);
    if (e) DIE("ring: pthread_create #%ld: %s", i, strerror(e));
  }
  token = hops;
  long long t0 = now_ns();
  sem_post(&sem[0]);
  while (sem_wait(&done)) {}
  long long t1 = now_ns();
  for (long i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
  long want = hops % nthreads + 1, bad = 0;
  for (long i = 0; i < nthreads; i++) {
    /* hops are dealt round-robin from thread 1 */
    long share = hops / nthreads + (i < hops % nthreads);
    bad += passes[i] != share;
  }
  if (winner != want || bad) DIE("ring: winner %ld (want %ld), %ld threads with a wrong pass count", winner, want, bad);
  printf("ring: %ld threads, %ld hops, winner %ld\n", nthreads, hops, winner);
  printf("RESULT name=ring ns_per_op=%.1f ops=%ld winner=%ld\n", (double)(t1 - t0) / (double)hops, hops, winner);
  return 0;
}
