// pthread_join family: Gs are joined by core; threads made before the
// runtime started (not Gs) by glibc. The blocking ones are cancellation
// points; a cancelled joiner leaves its target joinable.
#include <errno.h>

#include "shim.h"

namespace {
int join(pthread_t t, void** ret, const struct timespec* abstime, clockid_t clock) {
  green::testcancel();
  for (;;) {
    int e = green::thread_join(t, ret, abstime, clock, false);
    if (e != EINTR) return e;
    // Cancelled: unwound here. A stale request, or a signal handler that
    // ran (consumed; join never fails with EINTR): join again.
    if (!green::testcancel_intr()) green::interrupted_restart();
  }
}
}  // namespace

GREEN_EXPORT int pthread_join(pthread_t t, void** ret) {
  if (!green::is_green(t)) return green::real::resolve_all(), green::real::pthread_join(t, ret);
  return join(t, ret, nullptr, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_tryjoin_np(pthread_t t, void** ret) {
  if (!green::is_green(t))
    return green::real::resolve_all(), green::real::pthread_tryjoin_np(t, ret);
  return green::thread_join(t, ret, nullptr, CLOCK_REALTIME, true);
}

GREEN_EXPORT int pthread_clockjoin_np(pthread_t t, void** ret, clockid_t clock,
                                      const struct timespec* abstime) {
  if (!green::is_green(t))
    return green::real::resolve_all(), green::real::pthread_clockjoin_np(t, ret, clock, abstime);
  if (!green::shim::valid_clock(clock)) return EINVAL;
  return join(t, ret, abstime, clock);
}

GREEN_EXPORT int pthread_timedjoin_np(pthread_t t, void** ret, const struct timespec* abstime) {
  return pthread_clockjoin_np(t, ret, CLOCK_REALTIME, abstime);
}
