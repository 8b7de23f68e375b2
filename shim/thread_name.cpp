// Thread names and attributes of running threads.
#include <errno.h>

#include "shim.h"

GREEN_EXPORT int pthread_setname_np(pthread_t t, const char* name) {
  if (!green::is_green(t))
    return green::real::resolve_all(), green::real::pthread_setname_np(t, name);
  return green::thread_setname(t, name);
}

GREEN_EXPORT int pthread_getname_np(pthread_t t, char* buf, size_t len) {
  if (!green::is_green(t))
    return green::real::resolve_all(), green::real::pthread_getname_np(t, buf, len);
  return green::thread_getname(t, buf, len);
}

GREEN_EXPORT int pthread_getattr_np(pthread_t t, pthread_attr_t* attr) {
  if (!green::is_green(t))
    return green::real::resolve_all(), green::real::pthread_getattr_np(t, attr);
  void* addr;
  size_t size, guard;
  bool detached;
  int r = green::thread_stack(t, &addr, &size, &guard, &detached);
  if (r) return r;
  if ((r = pthread_attr_init(attr))) return r;
  pthread_attr_setstack(attr, addr, size);
  pthread_attr_setguardsize(attr, guard);
  pthread_attr_setdetachstate(attr, detached ? PTHREAD_CREATE_DETACHED : PTHREAD_CREATE_JOINABLE);
  return 0;
}
