// pthread_cond_*: core's parking-lot condvar; process-shared condvars (and
// waits with a glibc-managed mutex) stay with glibc.
#include <errno.h>

#include "shim.h"

#define NATIVE(c, m, call) \
  if (green::cond_is_native(c) || green::mutex_is_native(m)) \
  return green::real::resolve_all(), green::real::call
#define NATIVE_COND(c, call) \
  if (green::cond_is_native(c)) return green::real::resolve_all(), green::real::call

GREEN_EXPORT int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  NATIVE(c, m, pthread_cond_wait(c, m));
  return green::cond_wait(c, m, nullptr, false, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m,
                                        const struct timespec* abstime) {
  NATIVE(c, m, pthread_cond_timedwait(c, m, abstime));
  return green::cond_wait(c, m, abstime, false, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock,
                                        const struct timespec* abstime) {
  NATIVE(c, m, pthread_cond_clockwait(c, m, clock, abstime));
  if (!green::shim::valid_clock(clock)) return EINVAL;
  return green::cond_wait(c, m, abstime, true, clock);
}

GREEN_EXPORT int pthread_cond_signal(pthread_cond_t* c) {
  NATIVE_COND(c, pthread_cond_signal(c));
  return green::cond_signal(c);
}

GREEN_EXPORT int pthread_cond_broadcast(pthread_cond_t* c) {
  NATIVE_COND(c, pthread_cond_broadcast(c));
  return green::cond_broadcast(c);
}

GREEN_EXPORT int pthread_cond_destroy(pthread_cond_t* c) {
  NATIVE_COND(c, pthread_cond_destroy(c));
  return 0;
}
