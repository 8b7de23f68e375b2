/* Shared by the tests/cancel programs (plain C/C++ + pthreads, no libgreen
 * headers): checks that print what failed, the kernel's thread count, and
 * a gate to hand a thread over from one step to the next. */
#pragma once
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define CHECK(cond, ...)                                                \
  do {                                                                  \
    if (!(cond)) {                                                      \
      failures++;                                                       \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);   \
      fprintf(stderr, __VA_ARGS__);                                     \
      fputc('\n', stderr);                                              \
    }                                                                   \
  } while (0)

static inline int kernel_threads(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "Threads:", 8)) n = atoi(line + 8);
  if (f) fclose(f);
  return n;
}

/* Give a thread that announced it is about to block the time to get there.
 * Correctness never depends on it: a cancellation that arrives before the
 * thread blocks is acted on when it reaches the call. */
static inline void let_it_block(void) { usleep(20000); }

static inline struct timespec in_seconds(clockid_t c, int s) {
  struct timespec ts;
  clock_gettime(c, &ts);
  ts.tv_sec += s;
  return ts;
}
