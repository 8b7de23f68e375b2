/* create_join [N]: creates a thread and joins it, N times one after another
 * (default 100,000); each thread returns its argument, which is checked.
 * Measures the wall time of the N create+join pairs (CLOCK_MONOTONIC) and
 * prints it per pair:
 *   RESULT name=create_join ns_per_op=<ns per create+join> ops=<N> */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void* echo(void* arg) { return arg; }

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  if (n < 1) {
    fprintf(stderr, "usage: create_join [N>0]\n");
    return 2;
  }
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    pthread_t t;
    void* r;
    int err = pthread_create(&t, NULL, echo, (void*)i);
    if (err) {
      fprintf(stderr, "create_join: pthread_create #%ld: %s\n", i, strerror(err));
      return 1;
    }
    if ((err = pthread_join(t, &r)) || (long)r != i) {
      fprintf(stderr, "create_join: join #%ld: %s, result %ld\n", i, strerror(err), (long)r);
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
  printf("create_join: %ld threads created and joined one at a time\n", n);
  printf("RESULT name=create_join ns_per_op=%.1f ops=%ld\n", ns, n);
  return 0;
}
