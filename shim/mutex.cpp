// pthread_mutex_*: core's parking-lot mutex; robust/process-shared/priority
// mutexes go to glibc (see core/mutex.cpp). init is glibc's own: it only
// encodes the attribute into the object, which core reads.
#include <errno.h>

#include "shim.h"

#define NATIVE(m, call) \
  if (green::mutex_is_native(m)) return green::real::resolve_all(), green::real::call

GREEN_EXPORT int pthread_mutex_lock(pthread_mutex_t* m) {
  NATIVE(m, pthread_mutex_lock(m));
  return green::mutex_lock(m, nullptr, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_mutex_trylock(pthread_mutex_t* m) {
  NATIVE(m, pthread_mutex_trylock(m));
  return green::mutex_trylock(m);
}

GREEN_EXPORT int pthread_mutex_unlock(pthread_mutex_t* m) {
  NATIVE(m, pthread_mutex_unlock(m));
  return green::mutex_unlock(m);
}

GREEN_EXPORT int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                                         const struct timespec* abstime) {
  NATIVE(m, pthread_mutex_clocklock(m, clock, abstime));
  if (!green::shim::valid_clock(clock)) return EINVAL;
  return green::mutex_lock(m, abstime, clock);
}

GREEN_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) {
  NATIVE(m, pthread_mutex_timedlock(m, abstime));
  return green::mutex_lock(m, abstime, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_mutex_destroy(pthread_mutex_t* m) {
  NATIVE(m, pthread_mutex_destroy(m));
  if (m->__data.__lock != 0) return EBUSY;
  m->__data.__kind = -1;  // as glibc: a destroyed mutex
  return 0;
}

GREEN_EXPORT int __pthread_mutex_lock(pthread_mutex_t* m) { return pthread_mutex_lock(m); }
GREEN_EXPORT int __pthread_mutex_trylock(pthread_mutex_t* m) { return pthread_mutex_trylock(m); }
GREEN_EXPORT int __pthread_mutex_unlock(pthread_mutex_t* m) { return pthread_mutex_unlock(m); }
