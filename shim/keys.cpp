// Thread-specific data and once. Always core's, also before the runtime
// starts: keys must mean the same thing for every thread in the process.
#include "shim.h"

// glibc declares the value argument access-none; it is only stored.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

GREEN_EXPORT int pthread_key_create(pthread_key_t* key, void (*dtor)(void*)) {
  return green::key_create(key, dtor);
}
GREEN_EXPORT int pthread_key_delete(pthread_key_t key) { return green::key_delete(key); }
GREEN_EXPORT void* pthread_getspecific(pthread_key_t key) { return green::getspecific(key); }
GREEN_EXPORT int pthread_setspecific(pthread_key_t key, const void* v) {
  return green::setspecific(key, v);
}
GREEN_EXPORT int pthread_once(pthread_once_t* o, void (*init)(void)) { return green::once(o, init); }

// glibc's old exported names, still used by binaries linked before 2.34
// and by libstdc++'s "is threading active" probe.
GREEN_EXPORT int __pthread_key_create(pthread_key_t* key, void (*dtor)(void*)) {
  return green::key_create(key, dtor);
}
GREEN_EXPORT void* __pthread_getspecific(pthread_key_t key) { return green::getspecific(key); }
GREEN_EXPORT int __pthread_setspecific(pthread_key_t key, const void* v) {
  return green::setspecific(key, v);
}
GREEN_EXPORT int __pthread_once(pthread_once_t* o, void (*init)(void)) { return green::once(o, init); }
