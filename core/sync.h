// core's synchronisation API beyond green.h: the whole pthread family
// (mutex kinds and attributes, rwlocks, barriers, spin locks, semaphores)
// and raw private futex words. shim/ includes this next to green.h.
//
// State lives in the caller's object, in glibc's own struct layout, so that
// every static initialiser works (see each .cpp for the field map). An
// object is *process-shared* when its attribute said so (or, for sem_t,
// when it came from sem_open): such an object may have waiters in other
// processes, so its waiters sleep in the kernel (a futex without the
// PRIVATE flag, inside a syscall section) instead of on the parking lot.
//
// Every function returns 0 or a positive errno value, as pthreads does.
// Absolute deadlines are in nanoseconds of `clock` (<= 0: none); a timed
// wait returns ETIMEDOUT, never before the deadline.
#pragma once
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>

namespace green {

// ---- deadlines (wait.cpp) ----
// EINVAL for a tv_nsec out of range; otherwise *out = ns (1 if tv_sec < 0).
int deadline_from(const struct timespec* abstime, int64_t* out);

// ---- mutexes (mutex.cpp) ----
struct mutex_attr {
  int type = PTHREAD_MUTEX_NORMAL;  // NORMAL, RECURSIVE, ERRORCHECK, ADAPTIVE_NP
  bool robust = false;
  bool pshared = false;
  int protocol = PTHREAD_PRIO_NONE;  // NONE, INHERIT, PROTECT: all lock alike on Gs
  int ceiling = 0;                   // PRIO_PROTECT only
};
int mutex_init(pthread_mutex_t* m, const mutex_attr& a);
int mutex_destroy(pthread_mutex_t* m);
int mutex_consistent(pthread_mutex_t* m);
int mutex_getprioceiling(const pthread_mutex_t* m, int* ceiling);
int mutex_setprioceiling(pthread_mutex_t* m, int ceiling, int* old);
// The calling G is ending: every robust mutex it still holds becomes
// "owner died" (the next locker gets EOWNERDEAD). Idempotent. thread_exit
// calls it after the G's TLS and key destructors, which may still unlock
// or lock robust mutexes (the kernel, too, walks a thread's robust list only
// once it has ended).
void robust_owner_exit();

// ---- condition variables (cond.cpp): pthread_cond_destroy ----
int cond_destroy(pthread_cond_t* c);

// ---- read-write locks (rwlock.cpp) ----
int rwlock_init(pthread_rwlock_t* l, int kind, bool pshared);
int rwlock_rdlock(pthread_rwlock_t* l, const struct timespec* abstime, clockid_t clock, bool try_only);
int rwlock_wrlock(pthread_rwlock_t* l, const struct timespec* abstime, clockid_t clock, bool try_only);
int rwlock_unlock(pthread_rwlock_t* l);
int rwlock_destroy(pthread_rwlock_t* l);

// ---- barriers (barrier.cpp) ----
int barrier_init(pthread_barrier_t* b, unsigned count, bool pshared);
int barrier_wait(pthread_barrier_t* b);  // PTHREAD_BARRIER_SERIAL_THREAD to one caller
int barrier_destroy(pthread_barrier_t* b);

// ---- spin locks (spin.cpp) ----
int spin_lock(pthread_spinlock_t* s);
int spin_trylock(pthread_spinlock_t* s);
int spin_unlock(pthread_spinlock_t* s);

// ---- unnamed and named semaphores (sem.cpp) ----
// glibc's layout: a 64-bit word (value in the low half, waiter count in
// the high half) and glibc's "private" int (0 private, 128 shared, as
// sem_open makes them).
int sem_init(sem_t* s, bool pshared, unsigned value);
// EINTR when the waiting G was interrupted (a cancellation point, a signal).
int sem_wait(sem_t* s, const struct timespec* abstime, clockid_t clock, bool try_only);
int sem_post(sem_t* s);
int sem_getvalue(sem_t* s, int* value);

// ---- raw private futex words (futex.cpp), for syscall(SYS_futex) ----
// Park the calling G on addr while *addr == val (checked under the bucket
// lock) until futex_wake or the deadline (absolute ns of clock, <= 0: none).
// Returns 0 (woken), EAGAIN (value differed), ETIMEDOUT; ENOSYS when the
// caller is not a G or the word belongs to the runtime or the C library:
// the caller must then make the real system call.
// 0 woken, EAGAIN (*addr != val), ETIMEDOUT, EINTR (a signal handler ran
// for the G), ENOSYS (cannot park here: make the real call).
int futex_park(const uint32_t* addr, uint32_t val, int64_t deadline_ns, clockid_t clock);
int futex_unpark(const uint32_t* addr, int count);  // returns how many Gs it woke

}  // namespace green
