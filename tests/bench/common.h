/* Shared by the tests/bench programs: plain C + pthreads, no libgreen
 * header, run natively and under LD_PRELOAD=libgreen.so alike.
 *
 * Every program prints its figures on one line the runner (bench.py) reads:
 *   RESULT name=<bench> <metric>=<number> ...
 * and exits non-zero, without a RESULT line, when the work it timed was not
 * done right (a lost token, a wrong byte), so a broken run cannot print a
 * fast number. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DIE(...)                          \
  do {                                    \
    fprintf(stderr, __VA_ARGS__);         \
    fputc('\n', stderr);                  \
    exit(1);                              \
  } while (0)

static inline long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* argv[i] as a positive integer, or `def` when absent */
static inline long arg_long(int argc, char** argv, int i, long def, const char* usage) {
  if (argc <= i) return def;
  char* end;
  long v = strtol(argv[i], &end, 10);
  if (*end || v < 1) DIE("usage: %s", usage);
  return v;
}

static int cmp_ll(const void* a, const void* b) {
  long long x = *(const long long*)a, y = *(const long long*)b;
  return (x > y) - (x < y);
}

/* q-th quantile (0..1) of v[0..n), which it sorts */
static inline long long quantile(long long* v, long n, double q) {
  if (n == 0) return 0;
  qsort(v, (size_t)n, sizeof *v, cmp_ll);
  long i = (long)(q * (double)(n - 1) + 0.5);
  return v[i];
}

/* the number after "Key:" in a /proc file (-1 if absent) */
static inline long long proc_field(const char* path, const char* key) {
  FILE* f = fopen(path, "r");
  char line[256];
  size_t kl = strlen(key);
  long long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, key, kl) && line[kl] == ':') {
      v = atoll(line + kl + 1);
      break;
    }
  if (f) fclose(f);
  return v;
}

/* a "Key:   123 kB" field of a /proc file, in bytes (-1 if absent) */
static inline long long proc_kb_field(const char* path, const char* key) {
  long long kb = proc_field(path, key);
  return kb < 0 ? -1 : kb * 1024;
}
#endif
