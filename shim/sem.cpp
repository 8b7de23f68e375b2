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
}  // namespace

GREEN_EXPORT int sem_init(sem_t* s, int pshared, unsigned value) {
  return ret(green::sem_init(s, pshared != 0, value));
}
GREEN_EXPORT int sem_destroy(sem_t*) { return 0; }  // as glibc
GREEN_EXPORT int sem_wait(sem_t* s) { return ret(green::sem_wait(s, nullptr, CLOCK_REALTIME, false)); }
GREEN_EXPORT int sem_trywait(sem_t* s) { return ret(green::sem_wait(s, nullptr, CLOCK_REALTIME, true)); }
GREEN_EXPORT int sem_timedwait(sem_t* s, const struct timespec* t) {
  return ret(green::sem_wait(s, t, CLOCK_REALTIME, false));
}
GREEN_EXPORT int sem_clockwait(sem_t* s, clockid_t c, const struct timespec* t) {
  if (!green::shim::valid_clock(c)) return ret(EINVAL);
  return ret(green::sem_wait(s, t, c, false));
}
GREEN_EXPORT int sem_post(sem_t* s) { return ret(green::sem_post(s)); }
GREEN_EXPORT int sem_getvalue(sem_t* s, int* v) { return ret(green::sem_getvalue(s, v)); }
