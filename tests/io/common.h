/* Shared by the tests/io programs (plain C + pthreads, no libgreen headers):
 * checks that print what failed, and a monitor thread that samples the
 * kernel's thread count of this process from /proc. */
#pragma once
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define CHECK(cond, ...)                                        \
  do {                                                          \
    if (!(cond)) {                                              \
      failures++;                                               \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                             \
      fputc('\n', stderr);                                      \
    }                                                           \
  } while (0)

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline int kernel_threads(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "Threads:", 8)) n = atoi(line + 8);
  if (f) fclose(f);
  return n;
}

static volatile int monitor_stop;
static int monitor_max;
static void* monitor(void* arg) {
  (void)arg;
  while (!monitor_stop) {
    int n = kernel_threads();
    if (n > monitor_max) monitor_max = n;
    usleep(2000);
  }
  return NULL;
}
static pthread_t monitor_thread;
static inline void monitor_start(void) { pthread_create(&monitor_thread, NULL, monitor, NULL); }
static inline int monitor_end(void) {
  monitor_stop = 1;
  pthread_join(monitor_thread, NULL);
  return monitor_max;
}
