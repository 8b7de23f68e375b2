/* Shared by the tests/sync programs: plain pthread programs that must pass
 * natively and under LD_PRELOAD=libgreen.so alike. */
#ifndef SYNC_COMMON_H
#define SYNC_COMMON_H
#include "../include/kthreads.h"
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++;                                                           \
    }                                                                       \
  } while (0)

/* expect an error code; prints both names on mismatch */
#define CHECK_ERR(call, want)                                                       \
  do {                                                                              \
    int got_ = (call);                                                              \
    if (got_ != (want)) {                                                           \
      fprintf(stderr, "%s:%d: %s returned %d (%s), expected %s\n", __FILE__, __LINE__, \
              #call, got_, got_ ? strerror(got_) : "0", #want);                     \
      failures++;                                                                   \
    }                                                                               \
  } while (0)

#define DIE_IF(cond)                                                          \
  do {                                                                        \
    if (cond) {                                                               \
      fprintf(stderr, "%s:%d: fatal: %s (%s)\n", __FILE__, __LINE__, #cond,   \
              strerror(errno));                                               \
      exit(2);                                                                \
    }                                                                         \
  } while (0)

static inline long long now_ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* absolute time `ms` milliseconds from now on clock c */
static inline struct timespec after_ms(clockid_t c, long ms) {
  struct timespec t;
  clock_gettime(c, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += (ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  return t;
}

static inline long long ts_ns(const struct timespec* t) {
  return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static inline int finish(const char* name) {
  if (failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
    return 1;
  }
  printf("%s: ok\n", name);
  return 0;
}
#endif
