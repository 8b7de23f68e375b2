/* hammer [THREADS] [LINES]: CPU-bound threads that live inside the C
 * library: each allocates and frees blocks of varying sizes (filling and
 * checking them), formats with snprintf and prints LINES lines with printf
 * ("T <thread> <line> <checksum>"), never blocking otherwise. Under a
 * preempting runtime the threads are interrupted constantly, also inside
 * malloc and stdio; the run must finish with every line intact. The
 * checker (run.sh) verifies the output; the program verifies its memory. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lines;

static unsigned long mix(unsigned long x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdUL;
  x ^= x >> 33;
  return x;
}

static void* work(void* arg) {
  long id = (long)arg;
  unsigned long seed = (unsigned long)id * 7919 + 1;
  char* keep[16] = {0};
  for (int l = 0; l < lines; l++) {
    unsigned long sum = 0;
    for (int k = 0; k < 64; k++) {
      seed = mix(seed + 1);
      int slot = seed % 16;
      size_t size = 1 + seed % 4000;
      if (keep[slot]) {
        size_t old = strlen(keep[slot]);
        for (size_t j = 0; j < old; j++)
          if (keep[slot][j] != (char)('a' + (old + j) % 26)) {
            fprintf(stderr, "hammer: thread %ld: heap block corrupted\n", id);
            exit(1);
          }
        sum += old;
        free(keep[slot]);
      }
      keep[slot] = malloc(size + 1);
      if (!keep[slot]) {
        fprintf(stderr, "hammer: out of memory\n");
        exit(1);
      }
      for (size_t j = 0; j < size; j++) keep[slot][j] = (char)('a' + (size + j) % 26);
      keep[slot][size] = 0;
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%lu", sum);
    printf("T %ld %d %s\n", id, l, buf);
  }
  for (int s = 0; s < 16; s++) free(keep[s]);
  return NULL;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 8;
  lines = argc > 2 ? atoi(argv[2]) : 20000;
  if (n < 1 || n > 256 || lines < 1) {
    fprintf(stderr, "usage: hammer [1..256] [LINES>0]\n");
    return 2;
  }
  pthread_t t[256];
  for (long i = 0; i < n; i++) pthread_create(&t[i], NULL, work, (void*)i);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  return 0;
}
