// pthread_barrier_* and pthread_spin_*: core's (core/barrier.cpp,
// core/spin.cpp). Attributes are read with glibc's getters.
#include <errno.h>

#include "shim.h"
#include "sync.h"

GREEN_EXPORT int pthread_barrier_init(pthread_barrier_t* b, const pthread_barrierattr_t* attr,
                                      unsigned count) {
  int pshared = PTHREAD_PROCESS_PRIVATE;
  if (attr) pthread_barrierattr_getpshared(attr, &pshared);
  return green::barrier_init(b, count, pshared == PTHREAD_PROCESS_SHARED);
}
GREEN_EXPORT int pthread_barrier_wait(pthread_barrier_t* b) { return green::barrier_wait(b); }
GREEN_EXPORT int pthread_barrier_destroy(pthread_barrier_t* b) { return green::barrier_destroy(b); }

GREEN_EXPORT int pthread_spin_init(pthread_spinlock_t* s, int) {
  *s = 0;
  return 0;
}
GREEN_EXPORT int pthread_spin_destroy(pthread_spinlock_t*) { return 0; }
GREEN_EXPORT int pthread_spin_lock(pthread_spinlock_t* s) { return green::spin_lock(s); }
GREEN_EXPORT int pthread_spin_trylock(pthread_spinlock_t* s) { return green::spin_trylock(s); }
GREEN_EXPORT int pthread_spin_unlock(pthread_spinlock_t* s) { return green::spin_unlock(s); }
