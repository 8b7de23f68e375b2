// core's public interface: the only header shim/ and preload/ include.
//
// A thread handle is the G's thread pointer (its TCB), exactly what
// pthread_self() returns on that G; glibc code that compares pthread_self()
// with its own THREAD_SELF therefore sees one identity. Handles that are not
// Gs (threads made by the real pthread_create before start()) are reported by
// is_green() == false and left to glibc by the shim.
//
// Every function returns 0 or a positive errno value, as pthreads does.
// Blocking functions park the calling G; called outside a G (an M's g0, a
// thread libgreen did not create, or before start()) they block the OS
// thread on a futex instead, so every primitive works in every context.
#pragma once
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

namespace green {

using os_thread_create_fn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);

// What happens when every thread is blocked for good (GREEN_DEADLOCK).
enum class deadlock_action : uint8_t { report, abort_process, off };

struct config {
  int procs = 1;                    // number of Ps (GREEN_PROCS)
  size_t stack_size = 8 << 20;      // default G stack (GREEN_STACK_SIZE)
  bool stats = false;               // print counters at exit (GREEN_STATS)
  int max_ms = 10000;               // cap on Ms alive at once (GREEN_MAX_MS)
  int timeslice_us = 10000;         // preempt a G running longer while others wait; 0: never
  int preempt_signal = 0;           // signal used to preempt (GREEN_PREEMPT_SIGNAL); 0: SIGRTMAX-1
  int schedtrace_ms = 0;            // GREEN_DEBUG=schedtrace=MS: one scheduler line per MS
  int dump_signal = 0;              // print every thread on this signal (GREEN_DUMP_SIGNAL); 0: none
  deadlock_action deadlock = deadlock_action::report;  // GREEN_DEADLOCK
  os_thread_create_fn os_thread_create = nullptr;  // real pthread_create, for Ms
};

// ---- runtime lifecycle (runtime.cpp) ----
int start(const config& cfg);  // once per process; EBUSY if already started
bool started();
// Runs main as the first G; the calling OS thread becomes an M and never
// returns. main's return value goes to exit().
[[noreturn]] void run_main(int (*main)(int, char**, char**), int argc, char** argv, char** envp);
// Runs fn(arg) as a G and waits for it from the calling (non-G) OS thread.
int run(void* (*fn)(void*), void* arg, void** result);

// ---- threads (thread.cpp) ----
struct thread_attr {
  size_t stack_size = 0;       // 0: config default
  void* stack_addr = nullptr;  // user-supplied stack (lowest address), or nullptr
  size_t guard_size = 4096;
  bool detached = false;
};
int thread_create(pthread_t* out, const thread_attr& attr, void* (*fn)(void*), void* arg);
bool is_green(pthread_t t);
bool on_green();  // is the caller running on a G?
// EINTR when the joining G was interrupted (a cancellation point): t stays
// joinable.
int thread_join(pthread_t t, void** result, const struct timespec* abstime, clockid_t clock,
                bool try_only);
int thread_detach(pthread_t t);
// The calling G ends with result (its start routine returned): thread-local
// and key destructors run, the G is gone. pthread_exit is thread_exit_unwind.
[[noreturn]] void thread_exit(void* result);
// Called by a trampoline right before it calls the application's code on
// the current G (a thread's start routine, main, a C11 thread function):
// frames younger than the caller are the application's, which is where the
// preemption signal may switch the G out (preempt.cpp). Must be called from
// the frame that then makes the call, with no stack adjustment in between.
void mark_user_entry();
void yield();
int thread_setname(pthread_t t, const char* name);
int thread_getname(pthread_t t, char* buf, size_t len);
int thread_stack(pthread_t t, void** addr, size_t* size, size_t* guard, bool* detached);

// ---- parking lot (parking.cpp) ----
enum class park_result { woken, invalid, timeout, interrupted };
using park_validate_fn = bool (*)(const void* addr, const void* ctx);
// What a parked thread waits for, kept for thread dumps and deadlock
// reports (diag.cpp). obj is the application's object (the mutex, the
// condvar, ...), the joined thread's handle for join, the fd for fd_*.
enum class wait_kind : uint8_t {
  unknown, mutex, cond, rwlock_read, rwlock_write, sem, barrier, once, join, futex, sleep,
  fd_read, fd_write,
};
struct wait_on {
  wait_kind kind = wait_kind::unknown;
  const void* obj = nullptr;
};
// Queue the caller on addr if validate(addr, ctx) holds (checked under the
// bucket lock) and sleep until unparked or the absolute deadline passes
// (deadline_ns <= 0: none). why says what for, to a thread dump.
// An interruptible park also ends with `interrupted` when the G is
// interrupted (a signal handler to take, a cancellation): see interrupt().
park_result park(const void* addr, park_validate_fn validate, const void* ctx, int64_t deadline_ns,
                 clockid_t clock, wait_on why = {}, bool interruptible = false);
int unpark_one(const void* addr);  // returns the number woken (0 or 1)
int unpark_all(const void* addr);

// ---- pthread objects (mutex.cpp, cond.cpp, once.cpp, keys.cpp) ----
int mutex_lock(pthread_mutex_t* m, const struct timespec* abstime, clockid_t clock);
int mutex_trylock(pthread_mutex_t* m);
int mutex_unlock(pthread_mutex_t* m);
// EINTR when the G was interrupted (a cancellation point): the mutex is
// held again, as for every other return.
int cond_wait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime, bool use_clock,
              clockid_t clock);
int cond_signal(pthread_cond_t* c);
int cond_broadcast(pthread_cond_t* c);
int once(pthread_once_t* o, void (*init)());
int key_create(pthread_key_t* key, void (*destructor)(void*));
int key_delete(pthread_key_t key);
void* getspecific(pthread_key_t key);
int setspecific(pthread_key_t key, const void* value);

// ---- blocking system calls (syscall.cpp) ----
// Bracket any call that may block in the kernel (a futex wait on shared
// memory, regular-file I/O, waitpid, ...). While the caller is inside, its P
// may be handed to another M by sysmon, so the P's other Gs keep running;
// syscall_exit gets a P back (or queues the G and parks its M). Both are
// no-ops outside a G. errno is preserved across syscall_exit.
void syscall_enter();
void syscall_exit();
// The calling G's next syscall section (syscall_enter or syscall_intr) is
// expected to block (fsync, a wait for a child, a lock on a file): if other
// Gs wait for its P, it is handed to another M at once (Go's
// entersyscallblock) rather than after sysmon has seen it blocked twice.
void syscall_expect_block();

// ---- network poller (netpoll.cpp) ----
enum : int { POLL_READ = 1, POLL_WRITE = 2 };
// fd's readiness sequence number for mode (POLL_READ or POLL_WRITE): take
// it before an attempt at the I/O (or a readiness check) and pass it to
// netpoll_wait after the attempt found fd not ready.
uint32_t netpoll_seq(int fd, int mode);
// Park the caller until fd has had a readiness edge for mode since seq was
// taken (netpoll_seq). Returns 0 when ready (or on error/hang-up: the caller's retry reports
// it), ETIMEDOUT at the absolute CLOCK_MONOTONIC deadline (<= 0: none),
// EINTR when the G was interrupted (a cancellation, or a signal handler:
// see interrupted_restart),
// EBADF if netpoll_close(fd) ran meanwhile, EPERM if fd cannot be polled
// (regular files: do the call in a syscall section instead).
int netpoll_wait(int fd, int mode, int64_t deadline_ns, uint32_t seq);
// fd is about to be closed or replaced: wake its waiters with EBADF.
void netpoll_close(int fd);
// Something epoll does not report happened to fd (this process shut the
// socket down): its waiters for mode (POLL_READ | POLL_WRITE) wake with 0
// and retry.
void netpoll_ready(int fd, int mode);
// A read of a TCP stream that began at seq (netpoll_seq, POLL_READ) got
// less than it asked for: it emptied the receive queue. Until the next
// read edge, netpoll_empty(fd, seq) says a new read would find nothing, so
// the caller may park at once instead of making the call to learn EAGAIN
// (data that arrives later is an edge, which changes the number). Never
// once fd reported EOF, an error or TCP urgent data (a read then returns
// at once without new data, or stops short at the urgent mark), nor after
// netpoll_ready.
void netpoll_drained(int fd, uint32_t seq);
bool netpoll_empty(int fd, uint32_t seq);

// ---- descriptors of libgreen's own (ownfd.cpp) ----
// The netpoller's, the unwinder's pipe, kept /proc files: at numbers the
// program was never given (os::move_high). The shim's close family leaves
// them alone.
void ownfd_add(int fd, int* where, void (*moved)(int now));  // where (or moved) follows relocation
void ownfd_del(int fd);
bool ownfd_is(int fd);
int ownfd_highest();  // the highest registered number, or -1
// Before the program's dup2/dup3 onto fd: if it is ours, move ours
// elsewhere (fd is then a copy the program may replace); false if not ours.
bool ownfd_relocate(int fd);
// The unwinder (libunwind) made this call: its descriptors are libgreen's
// (preempt.cpp knows libunwind's code).
bool called_by_unwinder(const void* return_address);

// ---- sleeping (sleep.cpp) ----
// Sleep until the absolute deadline (ns) of clock (REALTIME, MONOTONIC or
// BOOTTIME): a G parks with a timer, anything else waits on a futex.
// 0, or EINTR when the G was interrupted (a cancellation, or a signal
// handler: see interrupted_restart).
int sleep_until(int64_t deadline_ns, clockid_t clock);
// A wait of the calling G ended with EINTR because a signal handler ran:
// true if that signal asked for SA_RESTART (a restartable call should
// be retried). Consumes the interruption.
bool interrupted_restart();

// ---- cancellation (cancel.cpp, intr.cpp) ----
// Deferred cancellation of Gs, acted on at the cancellation points the
// shim calls testcancel() from; acting unwinds the G's stack (cleanup
// handlers, C++ destructors) and ends it with PTHREAD_CANCELED. Outside a
// G these are not to be called (the shim gives such threads to glibc).
int cancel(pthread_t t);                   // pthread_cancel of a G: 0
int cancel_setstate(int state, int* old);  // 0 or EINVAL
int cancel_settype(int type, int* old);    // 0 or EINVAL
void testcancel();  // a cancellation point: unwinds if a cancellation is due
// A wait at a cancellation point ended with EINTR: unwinds if a
// cancellation is due; else true when only a stale request woke it (the
// caller waits again), false when a signal handler did (EINTR semantics:
// then interrupted_restart() says whether to restart, and consumes it).
bool testcancel_intr();
// pthread_exit: cleanup handlers and destructors of every frame up to the
// G's entry run (a forced unwind, as glibc's), then thread_exit(result).
[[noreturn]] void thread_exit_unwind(void* result);
// pthread_cleanup_push/pop when compiled without exceptions
// (__pthread_register_cancel & co.) and the old _pthread_cleanup_push.
void cleanup_register(__pthread_unwind_buf_t* buf, bool defer);
void cleanup_unregister(__pthread_unwind_buf_t* buf, bool restore);
[[noreturn]] void cleanup_unwind_next(__pthread_unwind_buf_t* buf);
void cleanup_push_old(struct _pthread_cleanup_buffer* b, void (*fn)(void*), void* arg, bool defer);
void cleanup_pop_old(struct _pthread_cleanup_buffer* b, int execute, bool restore);
// A blocking system call at a cancellation point, in a syscall section:
// a due cancellation makes it return -EINTR without entering the kernel,
// or, once it waits there, interrupts it with libgreen's wake signal
// (signals.h). Returns the raw result (-errno). Off a G: the plain call.
long syscall_intr(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0);

// ---- signals (signal.cpp) ----
// Signal sets are the kernel's 64-bit masks (bit sig-1 for signal sig).
// On a G the mask is the G's own (inherited at create); elsewhere these act
// on the OS thread. Returns 0 or EINVAL.
int sigmask_change(int how, const uint64_t* set, uint64_t* old);
// pthread_kill to a G (is_green(t)): delivered by the target on its own
// stack; sig 0 only checks. 0, ESRCH or EINVAL.
int signal_thread(pthread_t t, int sig);
// One of set directed at the calling G and pending (cleared), or 0.
int signal_take_pending(uint64_t set);
uint64_t signals_pending_here();  // directed at the calling G, not yet delivered
// The calling G waits in sigtimedwait for set (0: no longer): a signal of
// the set sent to it wakes it, even though its mask blocks the signal.
void sigwait_mark(uint64_t set);
// A handler for sig runs on this thread now: true if libgreen sent it here
// as a thread-directed signal (si_code cannot tell: Linux reports a tgkill
// from another thread as SI_USER).
bool signal_arrived(int sig);
// The application's handler for sig has run on this thread: if no G took
// the signal (it ran on an idle M), or the main thread waits parked, wake a
// parked G that does not block sig as the kernel would have interrupted a
// blocked thread (EINTR, or a restart if `restart` (SA_RESTART)).
// `directed`: it was sent to this thread (tgkill, SI_TKILL): only this
// thread's own interrupted wait is concerned.
void signal_handled(int sig, bool restart, bool directed);
int reserved_signal();            // libgreen's own signal number (0 before start)
// The handler wrapper's first question: true if sig interrupted libgreen's
// own code (which may hold a lock): it was put back to be delivered later,
// and the application's handler must not run now.
bool signal_must_defer(int sig, const siginfo_t* info, const void* ucontext);
// Before that: true if sig reached a thread that runs no G while a G waits
// for it in sigsuspend/pause; it was sent on to that G's OS thread, and
// the handler must not run here.
bool signal_forward(int sig, const siginfo_t* info);

// ---- diagnostics (diag.cpp, deadlock.cpp) ----
// handler is libgreen's SIGSEGV/SIGBUS handler, which stands in for SIG_DFL
// (it reports a stack overflow, then the default action happens): sigaction
// must show the program SIG_DFL in its place.
bool default_fault_handler(const void* handler);
// The application installed (caught) or removed a handler for sig. While it
// has one for a signal that can come from outside, threads that all wait are
// not reported as a deadlock: the handler may wake one (sem_post is
// async-signal-safe).
void app_signal_handler(int sig, bool caught);
// libgreen's own signals (core/signals.h), bit sig-1: a program's mask or
// sigwait set must never hold them.
uint64_t signals_reserved();

// ---- statistics (stats.cpp) ----
void stats_print();

}  // namespace green
