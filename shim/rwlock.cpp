// pthread_rwlock_*: core's rwlock (core/rwlock.cpp). init is ours (the
// fields mean what core says), reading the attribute with glibc's getters.
#include <errno.h>

#include "shim.h"
#include "sync.h"

GREEN_EXPORT int pthread_rwlock_init(pthread_rwlock_t* l, const pthread_rwlockattr_t* attr) {
  int kind = PTHREAD_RWLOCK_DEFAULT_NP, pshared = PTHREAD_PROCESS_PRIVATE;
  if (attr) {
    pthread_rwlockattr_getkind_np(attr, &kind);
    pthread_rwlockattr_getpshared(attr, &pshared);
  }
  return green::rwlock_init(l, kind, pshared == PTHREAD_PROCESS_SHARED);
}

GREEN_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t* l) { return green::rwlock_destroy(l); }

GREEN_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  return green::rwlock_rdlock(l, nullptr, CLOCK_REALTIME, false);
}
GREEN_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  return green::rwlock_rdlock(l, nullptr, CLOCK_REALTIME, true);
}
GREEN_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t* l, const struct timespec* t) {
  return green::rwlock_rdlock(l, t, CLOCK_REALTIME, false);
}
GREEN_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t* l, clockid_t c,
                                            const struct timespec* t) {
  if (!green::shim::valid_clock(c)) return EINVAL;
  return green::rwlock_rdlock(l, t, c, false);
}

GREEN_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  return green::rwlock_wrlock(l, nullptr, CLOCK_REALTIME, false);
}
GREEN_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  return green::rwlock_wrlock(l, nullptr, CLOCK_REALTIME, true);
}
GREEN_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t* l, const struct timespec* t) {
  return green::rwlock_wrlock(l, t, CLOCK_REALTIME, false);
}
GREEN_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t* l, clockid_t c,
                                            const struct timespec* t) {
  if (!green::shim::valid_clock(c)) return EINVAL;
  return green::rwlock_wrlock(l, t, c, false);
}

GREEN_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t* l) { return green::rwlock_unlock(l); }

// glibc's old exported names.
GREEN_EXPORT int __pthread_rwlock_init(pthread_rwlock_t* l, const pthread_rwlockattr_t* a) {
  return pthread_rwlock_init(l, a);
}
GREEN_EXPORT int __pthread_rwlock_destroy(pthread_rwlock_t* l) { return pthread_rwlock_destroy(l); }
GREEN_EXPORT int __pthread_rwlock_rdlock(pthread_rwlock_t* l) { return pthread_rwlock_rdlock(l); }
GREEN_EXPORT int __pthread_rwlock_tryrdlock(pthread_rwlock_t* l) {
  return pthread_rwlock_tryrdlock(l);
}
GREEN_EXPORT int __pthread_rwlock_wrlock(pthread_rwlock_t* l) { return pthread_rwlock_wrlock(l); }
GREEN_EXPORT int __pthread_rwlock_trywrlock(pthread_rwlock_t* l) {
  return pthread_rwlock_trywrlock(l);
}
GREEN_EXPORT int __pthread_rwlock_unlock(pthread_rwlock_t* l) { return pthread_rwlock_unlock(l); }
