// What condition variables need from mutexes beyond lock/unlock (cond.cpp):
// an unlock in two steps, so that a waiter can queue itself first and
// release the mutex only once it is off its stack (park_opts.after), and
// wait morphing (parking lot requeue) onto the word private mutexes park on.
#pragma once
#include <pthread.h>

namespace green {

// Every check and bookkeeping step of pthread_mutex_unlock (errors, the
// recursion count, the robust list, the owner) but the store that releases
// the word. Returns 0 or the error; *release: mutex_unlock_finish must now
// run (false when a recursive mutex only dropped a level).
int mutex_unlock_begin(pthread_mutex_t* m, bool* release);
// The release itself: store 0, wake a waiter if there are any. Runs
// anywhere (a G, an M's g0, a foreign thread); m is a pthread_mutex_t*.
void mutex_unlock_finish(void* m);
// Where waiters of m park on the parking lot, or nullptr if they sleep in
// the kernel (process-shared): a condvar waiter may be requeued there.
const void* mutex_requeue_key(const pthread_mutex_t* m);
// requeue() validation for that key: true if the mutex is held, after
// marking it contended (and its waiters queued), so that its unlock will
// unpark the requeued waiters.
bool mutex_mark_contended(const void* key, const void* unused);
// Lock after having been requeued onto m: never takes the word uncontended
// (more requeued waiters may follow), otherwise as pthread_mutex_lock.
int mutex_lock_requeued(pthread_mutex_t* m);

}  // namespace green
