// Unnamed and named semaphores: sem_init/wait/trywait/timedwait/clockwait/
// post/getvalue/destroy on core (core/sem.cpp), which keeps glibc's layout
// and protocol. sem_open/sem_close/sem_unlink stay glibc's: they map a file
// of /dev/shm holding a glibc semaphore marked shared, which core then waits
// on in the kernel. Errors go to errno, as the sem_* API wants.
#include <errno.h>
#include <semaphore.h>

#include "shim.h"
#include "sync.h"

namespace {
int ret(int e) {
  if (!e) return 0;
  errno = e;
  return -1;
}

// A cancellation point. As glibc, sem_wait and sem_timedwait act on a
// pending cancellation even when a token is there; sem_clockwait only when
// it has to wait.
int wait(sem_t* s, const struct timespec* t, clockid_t c, bool test_at_entry = true) {
  if (t && (t->tv_nsec < 0 || t->tv_nsec >= 1000000000)) return ret(EINVAL);  // before, as glibc
  if (test_at_entry) green::testcancel();
  for (;;) {
    int e = green::sem_wait(s, t, c, false);
    if (e != EINTR) return ret(e);
    if (green::testcancel_intr()) continue;        // cancelled: unwound; stale: wait again
    if (green::interrupted_restart()) continue;    // a handler with SA_RESTART ran
    return ret(EINTR);
  }
}
}  // namespace

GREEN_EXPORT int sem_init(sem_t* s, int pshared, unsigned value) {
  return ret(green::sem_init(s, pshared != 0, value));
}
GREEN_EXPORT int sem_destroy(sem_t*) { return 0; }  // as glibc
GREEN_EXPORT int sem_wait(sem_t* s) { return wait(s, nullptr, CLOCK_REALTIME); }
GREEN_EXPORT int sem_trywait(sem_t* s) { return ret(green::sem_wait(s, nullptr, CLOCK_REALTIME, true)); }
GREEN_EXPORT int sem_timedwait(sem_t* s, const struct timespec* t) {
  return wait(s, t, CLOCK_REALTIME);
}
GREEN_EXPORT int sem_clockwait(sem_t* s, clockid_t c, const struct timespec* t) {
  if (!green::shim::valid_clock(c)) return ret(EINVAL);
  return wait(s, t, c, false);
}
GREEN_EXPORT int sem_post(sem_t* s) { return ret(green::sem_post(s)); }
GREEN_EXPORT int sem_getvalue(sem_t* s, int* v) { return ret(green::sem_getvalue(s, v)); }
