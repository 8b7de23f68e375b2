// pthread_cond_*: core's condvar (core/cond.cpp), private ones on the
// parking lot, process-shared ones on the kernel futex. init is glibc's own:
// it only zeroes the object and records the clock and pshared bits.
#include <errno.h>

#include "shim.h"
#include "sync.h"

GREEN_EXPORT int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  return green::cond_wait(c, m, nullptr, false, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                                        const struct timespec* abstime) {
  return green::cond_wait(c, m, abstime, false, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock,
                                        const struct timespec* abstime) {
  if (!green::shim::valid_clock(clock)) return EINVAL;
  return green::cond_wait(c, m, abstime, true, clock);
}

GREEN_EXPORT int pthread_cond_signal(pthread_cond_t* c) { return green::cond_signal(c); }
GREEN_EXPORT int pthread_cond_broadcast(pthread_cond_t* c) { return green::cond_broadcast(c); }
GREEN_EXPORT int pthread_cond_destroy(pthread_cond_t* c) { return green::cond_destroy(c); }
