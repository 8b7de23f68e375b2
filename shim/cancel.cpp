// Thread cancellation (core/cancel.cpp): pthread_cancel, the cancel state
// and type, pthread_testcancel, and the cleanup-handler entry points that
// glibc's pthread_cleanup_push/pop macros expand to when compiled without
// exceptions (__pthread_register_cancel & co.), plus the old
// _pthread_cleanup_push family. Threads that are not Gs (made before
// start-up) keep glibc's own implementation, so a buffer is always
// registered and unwound by the same side.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim.h"

namespace {

template <typename F>
F next(const char* name, const char* version = nullptr) {
  void* p = version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
  if (!p) {
    static const char msg[] = "libgreen: a cancellation function is missing from the C library\n";
    (void)!write(2, msg, sizeof msg - 1);
    abort();
  }
  return reinterpret_cast<F>(p);
}
#define REAL(name) static auto real = next<decltype(&::name)>(#name)

// Not in any header since glibc 2.3.3.
using push_fn = void (*)(struct _pthread_cleanup_buffer*, void (*)(void*), void*);
using pop_fn = void (*)(struct _pthread_cleanup_buffer*, int);

}  // namespace

namespace green::shim {
long cancel_syscall(long nr, long a, long b, long c, long d, long e, long f) {
  for (;;) {
    long r = green::syscall_intr(nr, a, b, c, d, e, f);
    if (r >= 0 || r < -4095) return r;
    // Our cancellation (or a stale request, then the call is made again)
    // or a signal handler (EINTR, as the kernel decided: SA_RESTART calls
    // were restarted in the kernel; libgreen's record of it is consumed).
    if (r == -EINTR) {
      if (green::testcancel_intr()) continue;
      green::interrupted_restart();
    }
    errno = (int)-r;
    return -1;
  }
}
}  // namespace green::shim

GREEN_EXPORT int pthread_cancel(pthread_t t) {
  if (!green::is_green(t)) {
    REAL(pthread_cancel);
    return real(t);
  }
  return green::cancel(t);
}

GREEN_EXPORT int pthread_setcancelstate(int state, int* old) {
  if (!green::on_green()) {
    REAL(pthread_setcancelstate);
    return real(state, old);
  }
  return green::cancel_setstate(state, old);
}

GREEN_EXPORT int pthread_setcanceltype(int type, int* old) {
  if (!green::on_green()) {
    REAL(pthread_setcanceltype);
    return real(type, old);
  }
  return green::cancel_settype(type, old);
}

GREEN_EXPORT void pthread_testcancel(void) {
  if (!green::on_green()) {
    REAL(pthread_testcancel);
    return real();
  }
  green::testcancel();
}

GREEN_EXPORT void __pthread_register_cancel(__pthread_unwind_buf_t* buf) {
  if (!green::on_green()) {
    REAL(__pthread_register_cancel);
    return real(buf);
  }
  green::cleanup_register(buf, false);
}

GREEN_EXPORT void __pthread_unregister_cancel(__pthread_unwind_buf_t* buf) {
  if (!green::on_green()) {
    REAL(__pthread_unregister_cancel);
    return real(buf);
  }
  green::cleanup_unregister(buf, false);
}

GREEN_EXPORT void __pthread_register_cancel_defer(__pthread_unwind_buf_t* buf) {
  if (!green::on_green()) {
    REAL(__pthread_register_cancel_defer);
    return real(buf);
  }
  green::cleanup_register(buf, true);
}

GREEN_EXPORT void __pthread_unregister_cancel_restore(__pthread_unwind_buf_t* buf) {
  if (!green::on_green()) {
    REAL(__pthread_unregister_cancel_restore);
    return real(buf);
  }
  green::cleanup_unregister(buf, true);
}

GREEN_EXPORT void __pthread_unwind_next(__pthread_unwind_buf_t* buf) {
  if (!green::on_green()) {
    REAL(__pthread_unwind_next);
    real(buf);
  }
  green::cleanup_unwind_next(buf);
}

// The pre-2.3.3 entry points, for old binaries.
extern "C" {
void _pthread_cleanup_push(struct _pthread_cleanup_buffer*, void (*)(void*), void*);
void _pthread_cleanup_pop(struct _pthread_cleanup_buffer*, int);
void _pthread_cleanup_push_defer(struct _pthread_cleanup_buffer*, void (*)(void*), void*);
void _pthread_cleanup_pop_restore(struct _pthread_cleanup_buffer*, int);
}

GREEN_EXPORT void _pthread_cleanup_push(struct _pthread_cleanup_buffer* b, void (*fn)(void*),
                                        void* arg) {
  if (!green::on_green()) {
    static auto real = next<push_fn>("_pthread_cleanup_push");
    return real(b, fn, arg);
  }
  green::cleanup_push_old(b, fn, arg, false);
}

GREEN_EXPORT void _pthread_cleanup_pop(struct _pthread_cleanup_buffer* b, int execute) {
  if (!green::on_green()) {
    static auto real = next<pop_fn>("_pthread_cleanup_pop");
    return real(b, execute);
  }
  green::cleanup_pop_old(b, execute, false);
}

GREEN_EXPORT void _pthread_cleanup_push_defer(struct _pthread_cleanup_buffer* b, void (*fn)(void*),
                                              void* arg) {
  if (!green::on_green()) {
    static auto real = next<push_fn>("_pthread_cleanup_push_defer", "GLIBC_2.2.5");
    return real(b, fn, arg);
  }
  green::cleanup_push_old(b, fn, arg, true);
}

GREEN_EXPORT void _pthread_cleanup_pop_restore(struct _pthread_cleanup_buffer* b, int execute) {
  if (!green::on_green()) {
    static auto real = next<pop_fn>("_pthread_cleanup_pop_restore", "GLIBC_2.2.5");
    return real(b, execute);
  }
  green::cleanup_pop_old(b, execute, true);
}
