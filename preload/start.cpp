// Library entry. We wrap __libc_start_main: before the program's own
// constructors run, read the configuration and start the runtime (a bad
// GREEN_* value stops the program here); then main runs as the first G and
// the initial thread becomes the first M.
//
// Until start() succeeds every interposed call passes through to glibc (or
// works in OS-thread mode), so constructors of libraries loaded before us
// that use pthreads are safe.
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "shim.h"

namespace {

using main_fn = int (*)(int, char**, char**);
using start_main_fn = int (*)(main_fn, int, char**, void (*)(), void (*)(), void (*)(), void*);

main_fn program_main;

int green_main(int argc, char** argv, char** envp) {
  green::run_main(program_main, argc, argv, envp);
}

void print_stats() { green::stats_print(); }

}  // namespace

GREEN_EXPORT int __libc_start_main(main_fn main, int argc, char** argv, void (*init)(),
                                   void (*fini)(), void (*rtld_fini)(), void* stack_end) {
  auto real_start = reinterpret_cast<start_main_fn>(dlsym(RTLD_NEXT, "__libc_start_main"));
  if (!real_start) {
    static const char msg[] = "libgreen: cannot find __libc_start_main\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  green::real::resolve_all();
  green::config cfg;
  if (!green::preload::read_config(&cfg)) _exit(1);
  cfg.os_thread_create = green::real::pthread_create;
  program_main = main;
  if (green::start(cfg) == 0) {
    if (cfg.stats) atexit(print_stats);
    main = green_main;
  }
  return real_start(main, argc, argv, init, fini, rtld_fini, stack_end);
}
