// Shared by the interposed symbols: export macro and the real (next)
// definitions. Each shim file is a thin translation into core calls:
// decode arguments, pick core or glibc, convert the error once.
#pragma once
#include <errno.h>
#include <pthread.h>
#include <sched.h>

#include "green.h"

#define GREEN_EXPORT extern "C" __attribute__((visibility("default")))

namespace green::real {
// The next definitions in lookup order (glibc's), resolved on first use with
// dlsym(RTLD_NEXT). Safe before the runtime starts and from any thread.
extern int (*pthread_create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
extern int (*pthread_join)(pthread_t, void**);
extern int (*pthread_tryjoin_np)(pthread_t, void**);
extern int (*pthread_timedjoin_np)(pthread_t, void**, const struct timespec*);
extern int (*pthread_clockjoin_np)(pthread_t, void**, clockid_t, const struct timespec*);
extern int (*pthread_detach)(pthread_t);
extern int (*pthread_kill)(pthread_t, int);
extern void (*pthread_exit)(void*) __attribute__((noreturn));
extern int (*pthread_setname_np)(pthread_t, const char*);
extern int (*pthread_getname_np)(pthread_t, char*, size_t);
extern int (*pthread_getattr_np)(pthread_t, pthread_attr_t*);
extern int (*pthread_mutex_lock)(pthread_mutex_t*);
extern int (*pthread_mutex_trylock)(pthread_mutex_t*);
extern int (*pthread_mutex_unlock)(pthread_mutex_t*);
extern int (*pthread_mutex_timedlock)(pthread_mutex_t*, const struct timespec*);
extern int (*pthread_mutex_clocklock)(pthread_mutex_t*, clockid_t, const struct timespec*);
extern int (*pthread_mutex_destroy)(pthread_mutex_t*);
extern int (*pthread_cond_wait)(pthread_cond_t*, pthread_mutex_t*);
extern int (*pthread_cond_timedwait)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*);
extern int (*pthread_cond_clockwait)(pthread_cond_t*, pthread_mutex_t*, clockid_t,
                                     const struct timespec*);
extern int (*pthread_cond_signal)(pthread_cond_t*);
extern int (*pthread_cond_broadcast)(pthread_cond_t*);
extern int (*pthread_cond_destroy)(pthread_cond_t*);
extern int (*clock_nanosleep)(clockid_t, int, const struct timespec*, struct timespec*);
void resolve_all();
}  // namespace green::real

namespace green::shim {
bool valid_clock(clockid_t c);  // the clocks pthread's timed calls accept
// syscall(n, a...) of a call with a wrapper: run the wrapper (syscall_route.cpp).
bool syscall_routed(long n, const long* a, long* out);
// A blocking system call at a cancellation point (green::syscall_intr):
// acts on a due cancellation, else returns the result, or -1 with errno
// (EINTR only when a signal handler interrupted it). cancel.cpp.
long cancel_syscall(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                    long f = 0);
// A raw system call's result (-errno on failure) as the libc call returns
// it: -1 with errno set, or the value.
inline long sys_result(long r) {
  if (r < 0 && r > -4096) {
    errno = (int)-r;
    return -1;
  }
  return r;
}
}
