/* CHECK(cond, fmt, ...): on failure print where, the condition and the
 * formatted detail to stderr and count it in `failures` (the program
 * exits non-zero at the end when failures > 0). For plain C/C++ test
 * programs that run natively and under libgreen. */
#pragma once
#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                              \
  do {                                                                \
    if (!(cond)) {                                                    \
      failures++;                                                     \
      fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                   \
      fputc('\n', stderr);                                            \
    }                                                                 \
  } while (0)
