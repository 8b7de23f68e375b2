// Starting the runtime for a Criterion suite (each test runs in its own
// process, so each starts a fresh runtime).
#pragma once
#include <criterion/criterion.h>
#include <pthread.h>

#include "internal.h"

static inline void start_runtime_with(int procs) {
  green::config cfg;
  cfg.procs = procs;
  cfg.stack_size = 256 << 10;
  cfg.os_thread_create = pthread_create;
  cr_assert_eq(green::start(cfg), 0);
}
