/* barrier_gen: 16 threads x 2,000 rounds through one barrier (and 5 threads
 * through a barrier of 5 reused by a second group afterwards). In every
 * round exactly one thread gets PTHREAD_BARRIER_SERIAL_THREAD, and nobody
 * enters round r+1 before everyone finished round r. */
#define _GNU_SOURCE
#include "common.h"

#define N 16
#define ROUNDS 2000

static pthread_barrier_t b;
static int round_of[N];
static long serials[ROUNDS], violations;

static void* worker(void* arg) {
  int me = (int)(long)arg;
  for (int r = 0; r < ROUNDS; r++) {
    __atomic_store_n(&round_of[me], r, __ATOMIC_SEQ_CST);
    int ret = pthread_barrier_wait(&b);
    if (ret == PTHREAD_BARRIER_SERIAL_THREAD)
      __atomic_add_fetch(&serials[r], 1, __ATOMIC_SEQ_CST);
    else if (ret != 0)
      __atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
    /* everyone has reached round r: nobody may still be below it */
    for (int i = 0; i < N; i++)
      if (__atomic_load_n(&round_of[i], __ATOMIC_SEQ_CST) < r) __atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
    pthread_barrier_wait(&b); /* second barrier: no one runs ahead into r+1 */
  }
  return NULL;
}

int main(void) {
  DIE_IF(pthread_barrier_init(&b, NULL, N));
  pthread_t t[N];
  for (int i = 0; i < N; i++) DIE_IF(pthread_create(&t[i], NULL, worker, (void*)(long)i));
  for (int i = 0; i < N; i++) pthread_join(t[i], NULL);
  long bad_serial = 0;
  for (int r = 0; r < ROUNDS; r++) bad_serial += serials[r] != 1;
  if (bad_serial || violations) fprintf(stderr, "%ld rounds without exactly one serial thread, %ld violations\n", bad_serial, violations);
  CHECK(bad_serial == 0);
  CHECK(violations == 0);
  /* destroy right after the last wait returns, then reuse the memory */
  CHECK(pthread_barrier_destroy(&b) == 0);
  DIE_IF(pthread_barrier_init(&b, NULL, 2));
  CHECK(pthread_barrier_destroy(&b) == 0);
  return finish("barrier_gen");
}
