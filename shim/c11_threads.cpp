// C11 <threads.h>. glibc implements thrd_*/mtx_*/cnd_*/tss_*/call_once with
// hidden __pthread_* calls that never reach our pthread symbols, so each is
// interposed here and mapped onto the same calls, with glibc's error map:
// 0 -> thrd_success, EBUSY -> thrd_busy, ETIMEDOUT -> thrd_timedout,
// ENOMEM -> thrd_nomem, anything else -> thrd_error.
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>
#include <time.h>

#include "shim.h"
#include "sync.h"

namespace {

int map(int e) {
  switch (e) {
    case 0: return thrd_success;
    case EBUSY: return thrd_busy;
    case ETIMEDOUT: return thrd_timedout;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
  }
}

struct start {
  thrd_start_t fn;
  void* arg;
};

// A C11 thread returns int; the pthread result carries it, as glibc's.
void* c11_entry(void* p) {
  start s = *static_cast<start*>(p);
  free(p);
  green::mark_user_entry();  // s.fn is the application's: preemptible from here
  int r = s.fn(s.arg);
  return reinterpret_cast<void*>(static_cast<intptr_t>(r));
}

}  // namespace

GREEN_EXPORT int thrd_create(thrd_t* t, thrd_start_t fn, void* arg) {
  auto* s = static_cast<start*>(malloc(sizeof(start)));
  if (!s) return thrd_nomem;
  *s = {fn, arg};
  int e = pthread_create(t, nullptr, c11_entry, s);
  if (e) free(s);
  return map(e);
}

GREEN_EXPORT int thrd_join(thrd_t t, int* res) {
  void* r = nullptr;
  int e = pthread_join(t, &r);
  if (!e && res) *res = static_cast<int>(reinterpret_cast<intptr_t>(r));
  return map(e);
}

GREEN_EXPORT int thrd_detach(thrd_t t) { return map(pthread_detach(t)); }
GREEN_EXPORT void thrd_exit(int res) {
  pthread_exit(reinterpret_cast<void*>(static_cast<intptr_t>(res)));
}
GREEN_EXPORT thrd_t thrd_current(void) { return pthread_self(); }
GREEN_EXPORT int thrd_equal(thrd_t a, thrd_t b) { return a == b; }
GREEN_EXPORT void thrd_yield(void) { green::yield(); }

// As glibc: 0 slept, -1 interrupted by a signal, -2 any other error.
GREEN_EXPORT int thrd_sleep(const struct timespec* d, struct timespec* rem) {
  int e = clock_nanosleep(CLOCK_REALTIME, 0, d, rem);
  return e == 0 ? 0 : e == EINTR ? -1 : -2;
}

GREEN_EXPORT int mtx_init(mtx_t* m, int type) {
  green::mutex_attr a;
  a.type = (type & mtx_recursive) ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL;
  return map(green::mutex_init(reinterpret_cast<pthread_mutex_t*>(m), a));
}
GREEN_EXPORT int mtx_lock(mtx_t* m) {
  return map(green::mutex_lock(reinterpret_cast<pthread_mutex_t*>(m), nullptr, CLOCK_REALTIME));
}
GREEN_EXPORT int mtx_timedlock(mtx_t* __restrict m, const struct timespec* __restrict t) {
  return map(green::mutex_lock(reinterpret_cast<pthread_mutex_t*>(m), t, CLOCK_REALTIME));
}
GREEN_EXPORT int mtx_trylock(mtx_t* m) {
  return map(green::mutex_trylock(reinterpret_cast<pthread_mutex_t*>(m)));
}
GREEN_EXPORT int mtx_unlock(mtx_t* m) {
  return map(green::mutex_unlock(reinterpret_cast<pthread_mutex_t*>(m)));
}
GREEN_EXPORT void mtx_destroy(mtx_t* m) { green::mutex_destroy(reinterpret_cast<pthread_mutex_t*>(m)); }

GREEN_EXPORT int cnd_init(cnd_t* c) {
  return map(pthread_cond_init(reinterpret_cast<pthread_cond_t*>(c), nullptr));
}
GREEN_EXPORT int cnd_signal(cnd_t* c) {
  return map(green::cond_signal(reinterpret_cast<pthread_cond_t*>(c)));
}
GREEN_EXPORT int cnd_broadcast(cnd_t* c) {
  return map(green::cond_broadcast(reinterpret_cast<pthread_cond_t*>(c)));
}
// Cancellation points, as glibc's (they are its pthread_cond_wait).
GREEN_EXPORT int cnd_wait(cnd_t* c, mtx_t* m) {
  return map(pthread_cond_wait(reinterpret_cast<pthread_cond_t*>(c),
                               reinterpret_cast<pthread_mutex_t*>(m)));
}
GREEN_EXPORT int cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m,
                               const struct timespec* __restrict t) {
  return map(pthread_cond_timedwait(reinterpret_cast<pthread_cond_t*>(c),
                                    reinterpret_cast<pthread_mutex_t*>(m), t));
}
GREEN_EXPORT void cnd_destroy(cnd_t* c) { green::cond_destroy(reinterpret_cast<pthread_cond_t*>(c)); }

GREEN_EXPORT int tss_create(tss_t* k, tss_dtor_t dtor) {
  pthread_key_t key;
  int e = green::key_create(&key, dtor);
  if (!e) *k = key;
  return map(e);
}
GREEN_EXPORT void* tss_get(tss_t k) { return green::getspecific(k); }
GREEN_EXPORT int tss_set(tss_t k, void* v) { return map(green::setspecific(k, v)); }
GREEN_EXPORT void tss_delete(tss_t k) { green::key_delete(k); }

GREEN_EXPORT void call_once(once_flag* f, void (*fn)(void)) {
  green::once(reinterpret_cast<pthread_once_t*>(f), fn);
}
