/* create_join [N]: create and join N threads one after another; prints the
 * time per create+join pair. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void* nothing(void* arg) { return arg; }

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) {
    pthread_t t;
    void* r;
    if (pthread_create(&t, NULL, nothing, (void*)i) || pthread_join(t, &r) || (long)r != i) {
      fprintf(stderr, "create_join: failed at %ld\n", i);
      return 1;
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
  printf("RESULT name=create_join ns_per_op=%.1f ops=%ld\n", ns, n);
  return 0;
}
