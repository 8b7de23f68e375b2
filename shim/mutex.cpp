// pthread_mutex_*: every kind on core (core/mutex.cpp), robust, priority
// protocol and process-shared ones included. init is ours: glibc's would
// put a prio-protect ceiling into the lock word and mark every robust mutex
// process-shared; the attribute is read with glibc's own getters.
#include <errno.h>

#include "shim.h"
#include "sync.h"

GREEN_EXPORT int pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* attr) {
  green::mutex_attr a;
  if (attr) {
    int pshared = 0, robust = 0;
    pthread_mutexattr_gettype(attr, &a.type);
    pthread_mutexattr_getpshared(attr, &pshared);
    pthread_mutexattr_getrobust(attr, &robust);
    pthread_mutexattr_getprotocol(attr, &a.protocol);
    if (a.protocol == PTHREAD_PRIO_PROTECT) pthread_mutexattr_getprioceiling(attr, &a.ceiling);
    a.pshared = pshared == PTHREAD_PROCESS_SHARED;
    a.robust = robust == PTHREAD_MUTEX_ROBUST;
  }
  return green::mutex_init(m, a);
}

GREEN_EXPORT int pthread_mutex_lock(pthread_mutex_t* m) {
  return green::mutex_lock(m, nullptr, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_mutex_trylock(pthread_mutex_t* m) { return green::mutex_trylock(m); }

GREEN_EXPORT int pthread_mutex_unlock(pthread_mutex_t* m) { return green::mutex_unlock(m); }

GREEN_EXPORT int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock,
                                         const struct timespec* abstime) {
  if (!green::shim::valid_clock(clock)) return EINVAL;
  return green::mutex_lock(m, abstime, clock);
}

GREEN_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) {
  return green::mutex_lock(m, abstime, CLOCK_REALTIME);
}

GREEN_EXPORT int pthread_mutex_destroy(pthread_mutex_t* m) { return green::mutex_destroy(m); }

GREEN_EXPORT int pthread_mutex_consistent(pthread_mutex_t* m) { return green::mutex_consistent(m); }
// The header redirects pthread_mutex_consistent_np; old binaries import it.
GREEN_EXPORT int green_mutex_consistent_np(pthread_mutex_t* m) asm("pthread_mutex_consistent_np");
GREEN_EXPORT int green_mutex_consistent_np(pthread_mutex_t* m) { return green::mutex_consistent(m); }

GREEN_EXPORT int pthread_mutex_getprioceiling(const pthread_mutex_t* m, int* ceiling) {
  return green::mutex_getprioceiling(m, ceiling);
}
GREEN_EXPORT int pthread_mutex_setprioceiling(pthread_mutex_t* m, int ceiling, int* old) {
  return green::mutex_setprioceiling(m, ceiling, old);
}

// glibc's old exported names (binaries linked before 2.34, libstdc++).
GREEN_EXPORT int __pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* a) {
  return pthread_mutex_init(m, a);
}
GREEN_EXPORT int __pthread_mutex_destroy(pthread_mutex_t* m) { return pthread_mutex_destroy(m); }
GREEN_EXPORT int __pthread_mutex_lock(pthread_mutex_t* m) { return pthread_mutex_lock(m); }
GREEN_EXPORT int __pthread_mutex_trylock(pthread_mutex_t* m) { return pthread_mutex_trylock(m); }
GREEN_EXPORT int __pthread_mutex_unlock(pthread_mutex_t* m) { return pthread_mutex_unlock(m); }
