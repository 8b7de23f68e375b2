// Small thread calls: detach, exit, self/equal, yield.
#include "shim.h"

GREEN_EXPORT int pthread_detach(pthread_t t) {
  if (!green::is_green(t)) return green::real::resolve_all(), green::real::pthread_detach(t);
  return green::thread_detach(t);
}

// As glibc's: cleanup handlers and C++ destructors of the thread's frames
// run (a forced unwind), then thread-local and key destructors.
GREEN_EXPORT void pthread_exit(void* ret) {
  if (green::on_green()) green::thread_exit_unwind(ret);
  green::real::resolve_all();
  green::real::pthread_exit(ret);
}

// The thread pointer is a G's own TCB on a G: glibc's answer is already ours.
GREEN_EXPORT pthread_t pthread_self(void) {
  pthread_t self;
  asm("mov %%fs:0x10, %0" : "=r"(self));
  return self;
}

GREEN_EXPORT int pthread_equal(pthread_t a, pthread_t b) { return a == b; }

GREEN_EXPORT int sched_yield(void) {
  green::yield();
  return 0;
}

// glibc's header redirects pthread_yield to sched_yield; old binaries still
// import the name itself.
GREEN_EXPORT int green_pthread_yield(void) asm("pthread_yield");
GREEN_EXPORT int green_pthread_yield(void) {
  green::yield();
  return 0;
}
