// Resolution of glibc's own definitions of the symbols we interpose. All are
// resolved together on first need (or by preload at start-up), so a
// pass-through call never races a half-filled table.
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

#include "shim.h"

namespace green::real {

#define REAL(name) decltype(real::name) name
REAL(pthread_create);
REAL(pthread_join);
REAL(pthread_tryjoin_np);
REAL(pthread_timedjoin_np);
REAL(pthread_clockjoin_np);
REAL(pthread_detach);
REAL(pthread_kill);
REAL(pthread_exit);
REAL(pthread_setname_np);
REAL(pthread_getname_np);
REAL(pthread_getattr_np);
REAL(pthread_mutex_lock);
REAL(pthread_mutex_trylock);
REAL(pthread_mutex_unlock);
REAL(pthread_mutex_timedlock);
REAL(pthread_mutex_clocklock);
REAL(pthread_mutex_destroy);
REAL(pthread_cond_wait);
REAL(pthread_cond_timedwait);
REAL(pthread_cond_clockwait);
REAL(pthread_cond_signal);
REAL(pthread_cond_broadcast);
REAL(pthread_cond_destroy);
REAL(clock_nanosleep);
#undef REAL

static void* next(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (!p) {
    static const char msg[] = "libgreen: cannot resolve a pthread symbol in the C library\n";
    (void)!write(2, msg, sizeof msg - 1);
    abort();
  }
  return p;
}

void resolve_all() {
  if (pthread_cond_destroy) return;
#define RESOLVE(name) name = reinterpret_cast<decltype(name)>(next(#name))
  RESOLVE(pthread_create);
  RESOLVE(pthread_join);
  RESOLVE(pthread_tryjoin_np);
  RESOLVE(pthread_timedjoin_np);
  RESOLVE(pthread_clockjoin_np);
  RESOLVE(pthread_detach);
  RESOLVE(pthread_kill);
  RESOLVE(pthread_exit);
  RESOLVE(pthread_setname_np);
  RESOLVE(pthread_getname_np);
  RESOLVE(pthread_getattr_np);
  RESOLVE(pthread_mutex_lock);
  RESOLVE(pthread_mutex_trylock);
  RESOLVE(pthread_mutex_unlock);
  RESOLVE(pthread_mutex_timedlock);
  RESOLVE(pthread_mutex_clocklock);
  RESOLVE(pthread_mutex_destroy);
  RESOLVE(pthread_cond_wait);
  RESOLVE(pthread_cond_timedwait);
  RESOLVE(pthread_cond_clockwait);
  RESOLVE(pthread_cond_signal);
  RESOLVE(pthread_cond_broadcast);
  RESOLVE(clock_nanosleep);
  RESOLVE(pthread_cond_destroy);  // last: resolve_all's "done" flag
#undef RESOLVE
}

}  // namespace green::real

namespace green::shim {
bool valid_clock(clockid_t c) { return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC; }
}  // namespace green::shim
