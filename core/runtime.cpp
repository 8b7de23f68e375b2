// Runtime start-up and the two ways in: run_main (the preload: main becomes
// the first G and the initial thread the first M) and run (unit tests: a G
// is run and waited for from an ordinary OS thread).
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

namespace green {

namespace {

struct main_call {
  int (*fn)(int, char**, char**);
  int argc;
  char** argv;
  char** envp;
} main_args;

void* main_trampoline(void*) {
  mark_user_entry();
  int status = main_args.fn(main_args.argc, main_args.argv, main_args.envp);
  exit(status);
}

}  // namespace

bool started() { return sched.started.load(std::memory_order_acquire); }

int start(const config& cfg) {
  if (started()) return EBUSY;
  if (cfg.procs < 1 || !cfg.os_thread_create || cfg.stack_size < 16384) return EINVAL;
  if (!tls_init()) {
    diag("libgreen: this C library's thread layout is not supported (need glibc 2.34+ on "
         "x86_64); running threads natively\n");
    return ENOTSUP;
  }
  sched_init(cfg);
  fork_handlers_install();
  if (!preempt_init())
    diag("libgreen: cannot install libgreen's signal handler; threads that never block will "
         "not be preempted and pthread_kill reaches a running thread late\n");
  diag_init();
  if (!intr_init())
    diag("libgreen: cannot install libgreen's wake signal; a cancelled thread blocked in a "
         "system call is cancelled only when the call returns\n");
  sched.started.store(true, std::memory_order_release);
  return 0;
}

[[noreturn]] void run_main(int (*fn)(int, char**, char**), int argc, char** argv, char** envp) {
  main_args = main_call{fn, argc, argv, envp};
  G* g = galloc(sched.cfg.stack_size, nullptr, 4096);
  GREEN_CHECK(g, "cannot allocate the main G");
  g->fn = main_trampoline;
  g->is_main = true;
  signals_g_created(g, kernel_mask_get());
  signals_set_main(g);
  g->join_state.store(JOIN_JOINABLE, std::memory_order_relaxed);
  stats_g_created();
  mstart_current(g);
}

int run(void* (*fn)(void*), void* arg, void** result) {
  if (!started()) return EINVAL;
  pthread_t t;
  int r = thread_create(&t, thread_attr{}, fn, arg);
  if (r) return r;
  return thread_join(t, result, nullptr, CLOCK_REALTIME, false);
}

}  // namespace green
