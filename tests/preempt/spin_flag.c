/* spin_flag [N]: legacy spin-waiting. A chain of N threads: thread i spins
 * (no yield, no system call) until flag[i] is set, then sets flag[i+1];
 * main sets flag[0] only after every thread has started spinning, then
 * spins on flag[N]. Each thread also checks that it saw the flags in order.
 * With one CPU for all threads this finishes only if a spinning thread can
 * be preempted. Exit 0 and "spin_flag: ok" on success. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#define MAXN 64
static atomic_int flag[MAXN + 1];
static atomic_int started;

static void* link_(void* arg) {
  long i = (long)arg;
  atomic_fetch_add(&started, 1);
  while (!atomic_load_explicit(&flag[i], memory_order_acquire)) {
  }
  if (atomic_load(&flag[i + 1])) return (void*)1; /* out of order */
  atomic_store_explicit(&flag[i + 1], 1, memory_order_release);
  return NULL;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 8;
  if (n < 1 || n > MAXN) {
    fprintf(stderr, "usage: spin_flag [1..%d]\n", MAXN);
    return 2;
  }
  pthread_t t[MAXN];
  for (long i = 0; i < n; i++)
    if (pthread_create(&t[i], NULL, link_, (void*)i)) {
      fprintf(stderr, "spin_flag: pthread_create failed\n");
      return 1;
    }
  while (atomic_load(&started) < n) {
  }
  atomic_store(&flag[0], 1);
  while (!atomic_load_explicit(&flag[n], memory_order_acquire)) {
  }
  long bad = 0;
  for (int i = 0; i < n; i++) {
    void* r;
    pthread_join(t[i], &r);
    bad += r != NULL;
  }
  if (bad) {
    fprintf(stderr, "spin_flag: %ld threads saw flags out of order\n", bad);
    return 1;
  }
  printf("spin_flag: ok (%d spinning threads)\n", n);
  return 0;
}
