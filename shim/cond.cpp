// pthread_cond_*: core's condvar (core/cond.cpp), private ones on the
// parking lot, process-shared ones on the kernel futex. init is glibc's own:
// it only zeroes the object and records the clock and pshared bits.
// Waits are cancellation points: a due cancellation is acted on with the
// mutex held again, before any cleanup handler runs (POSIX).
#include <errno.h>

#include "shim.h"
#include "sync.h"

namespace {
int wait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime, bool use_clock,
         clockid_t clock) {
  green::testcancel();
  int r = green::cond_wait(c, m, abstime, use_clock, clock);
  if (r != EINTR) return r;
  // Cancelled: unwound. A stale request, or a signal handler that ran
  // (consumed here): a spurious wake-up, which POSIX allows.
  if (!green::testcancel_intr()) green::interrupted_restart();
  return 0;
}
}  // namespace

GREEN_EXPORT int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  return wait(c, m, nullptr, false, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                                        const struct timespec* abstime) {
  return wait(c, m, abstime, false, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock,
                                        const struct timespec* abstime) {
  if (!green::shim::valid_clock(clock)) return EINVAL;
  return wait(c, m, abstime, true, clock);
}

GREEN_EXPORT int pthread_cond_signal(pthread_cond_t* c) { return green::cond_signal(c); }
GREEN_EXPORT int pthread_cond_broadcast(pthread_cond_t* c) { return green::cond_broadcast(c); }
GREEN_EXPORT int pthread_cond_destroy(pthread_cond_t* c) { return green::cond_destroy(c); }
