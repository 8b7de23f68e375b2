// pthread_create: a G, unless the runtime has not started yet.
#include <errno.h>

#include "shim.h"

namespace {
// glibc's struct pthread_attr (the public pthread_attr_t's storage): read
// directly only for "stack size set?", which no getter can tell apart from
// glibc's default.
struct glibc_attr {
  int sched_priority;
  int schedpolicy;
  int flags;
  size_t guardsize;
  void* stackaddr;
  size_t stacksize;
};
constexpr int ATTR_FLAG_STACKADDR = 0x0008;
}  // namespace

GREEN_EXPORT int pthread_create(pthread_t* t, const pthread_attr_t* attr, void* (*fn)(void*),
                                void* arg) {
  if (!green::started()) {
    green::real::resolve_all();
    return green::real::pthread_create(t, attr, fn, arg);
  }
  green::thread_attr a;
  if (attr) {
    auto* ga = reinterpret_cast<const glibc_attr*>(attr);
    int detach = 0;
    pthread_attr_getdetachstate(attr, &detach);
    a.detached = detach == PTHREAD_CREATE_DETACHED;
    pthread_attr_getguardsize(attr, &a.guard_size);
    a.stack_size = ga->stacksize;
    if (ga->flags & ATTR_FLAG_STACKADDR) {
      size_t size = 0;
      if (pthread_attr_getstack(attr, &a.stack_addr, &size) != 0 || size == 0) return EINVAL;
      a.stack_size = size;
    }
  }
  return green::thread_create(t, a, fn, arg);
}
