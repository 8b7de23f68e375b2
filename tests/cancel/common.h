/* Shared by the tests/cancel programs (plain C/C++ + pthreads, no libgreen
 * headers): checks that print what failed, the kernel's thread count, and
 * a gate to hand a thread over from one step to the next. */
#pragma once
#include "../include/check.h"
#include "../include/kthreads.h"
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
