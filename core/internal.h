// Runtime-internal types shared by core's files: G, M, P and the scheduler
// globals. Nothing outside core/ includes this (tests reach it through
// tests/unit, which link the core archive, as Go's export_test.go does).
//
// Ownership, in the Go manner:
//   G   a green thread. Its fields are written by the M running it, or, when
//       it is not running, by whoever holds it (a run queue, a parking-lot
//       bucket, the joiner after exit). `ctx` is valid only while the G is
//       not running, and is written by g0 right after the G switched away.
//   M   an OS thread made with the real pthread_create. It owns its g0 stack
//       (the OS thread's own stack) and, while running Gs, exactly one P.
//   P   a scheduling slot: local run queue + runnext + free-G cache. Only the
//       M holding the P pushes to its queue; any M may steal from the head.
#pragma once
#include <boost/context/detail/fcontext.hpp>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <atomic>

#include "check.h"
#include "green.h"
#include "lock.h"

struct epoll_event;
namespace green {

using boost::context::detail::fcontext_t;
using boost::context::detail::transfer_t;

struct M;
struct P;
struct key_store;

enum class gstatus : uint32_t {
  idle,      // in a free list; no stack frames live
  runnable,  // on a run queue; ctx valid
  running,   // on an M; ctx invalid
  syscall,   // on an M blocked in the kernel, without a P; ctx invalid
  waiting,   // parked; ctx valid; owned by the wait queue / timer
  dead,      // finished; waiting for join or reclaim
};

// Join protocol: join_state moves JOINABLE -> {DETACHED | JOINING} ->
// EXITED; the G whose state reaches EXITED is reclaimed by its joiner, a
// DETACHED G by g0 at exit. See thread.cpp.
enum : uint32_t { JOIN_JOINABLE, JOIN_DETACHED, JOIN_JOINING, JOIN_EXITED };

struct stack_desc {
  char* base = nullptr;  // lowest usable address
  size_t size = 0;       // usable bytes above base
  size_t guard = 0;      // guard bytes just below base (ours), 0 for user stacks
  bool user = false;     // supplied by the application: never reused or freed
  bool pooled = false;   // came from the default-size pool
};

struct G {
  std::atomic<uint64_t> magic;  // G_MAGIC once the block is set up (release; walkers acquire)
  fcontext_t ctx;            // saved context (not running)
  M* m;                      // M running this G (valid while running)
  std::atomic<gstatus> status;
  uint64_t id;               // unique, never reused
  uint32_t slot;             // index of this G's block in the arena
  int owner_id;              // 32-bit identity stored in mutex owner fields
  void* tcb;                 // thread pointer == pthread_t
  stack_desc stack;
  void* (*fn)(void*);
  void* arg;
  void* result;
  std::atomic<uint32_t> join_state;
  G* schedlink;              // run queue / free list link
  key_store* keys;           // pthread_getspecific values (lazily allocated)
  char name[16];
  // While parked: what for, on what (set by park under the bucket lock;
  // read without it by thread dumps and deadlock reports, hence atomics,
  // relaxed) and since when (coarse monotonic ns, 0: unknown).
  std::atomic<wait_kind> wait;
  std::atomic<const void*> wait_obj;
  std::atomic<int64_t> wait_since;
  G* joining;                // the G this one waits to join (EDEADLK check)
  void* asan_fake_stack;     // AddressSanitizer fiber bookkeeping (asan builds)
  void* tsan_fiber;          // ThreadSanitizer's state of this G (tsan builds; gpool.cpp)
  uintptr_t entry_sp;        // SP of the frame that called the app's code (mark_user_entry)
  std::atomic<uint64_t> sigmask;     // blocked signals (bit sig-1), as pthread_sigmask sees them
  std::atomic<uint64_t> sigpending;  // directed at this G (pthread_kill), not yet delivered
  std::atomic<uint64_t> sigwait_set; // signals it waits for in sigtimedwait (sigwait_mark)
  std::atomic<uint64_t> sigdirected; // raised at it by libgreen (tgkill), not yet handled
  // Interruption of blocking waits (parking.cpp): bits INTR_*, set by
  // interrupt(); park_bucket/park_waiter name the wait queue entry of an
  // interruptible park, set and cleared under that bucket's lock.
  std::atomic<uint32_t> intr;
  std::atomic<void*> park_bucket;
  void* park_waiter;
  bool intr_restart;         // the signals that interrupted asked for SA_RESTART
  bool delivering;           // in deliver_pending's tgkill: a safe point for handlers
  int section_depth;         // syscall sections entered (a handler may nest one)
  bool section_real;         // the outermost one gave up the P (else: a no-op pair)
  bool section_block;        // syscall_expect_block: the next section is expected to block
  // Cancellation (cancel.cpp, intr.cpp): CANCEL_* bits; the tid of the M
  // this G waits on in the kernel in syscall_intr (or WAKE_*); the
  // innermost cleanup buffers (pthread_cleanup_push without exceptions,
  // and the old _pthread_cleanup_push); the forced-unwind exception object.
  std::atomic<uint32_t> cancel;
  std::atomic<int> wake_tid;
  // In sigsuspend or pause (syscall_intr): the signals it waits for, else
  // 0. A process signal that reaches an idle M is forwarded to such a G.
  std::atomic<uint64_t> suspend_accepts;
  void* cleanup_top;
  void* cleanup_old;
  alignas(16) unsigned char unwind_exc[32];
  int nopark;                // > 0: this G must not switch (it runs in a signal handler
                             // of ours): blocking calls block its M, as a plain thread
  bool is_main;
  bool started;              // has run: ctx was saved by a switch, not made fresh
  bool tls_ready;            // _dl_allocate_tls done for this block
  uint32_t list_epoch;       // on glibc's thread list in this process epoch (glibcthreads.cpp)
};

constexpr uint64_t G_MAGIC = 0x67726565'6e5f6721ull;  // "green_g!"

// Local run queue: bounded ring, single producer (the owning P's M),
// multiple consumers (owner and thieves) via CAS on head. As Go's runq.
constexpr uint32_t RUNQ_SIZE = 256;
struct runq {
  std::atomic<uint32_t> head{0};
  std::atomic<uint32_t> tail{0};
  std::atomic<G*> slots[RUNQ_SIZE];
  std::atomic<G*> runnext{nullptr};
  std::atomic<uint32_t> nextgen{0};  // bumped (by the owner) before each runnext put
};

// P status: who may use it. A P in SYSCALL has no M (its last M is in the
// kernel, remembered in M.oldp); sysmon may retake it with a CAS to IDLE.
// P_SPARE: one of the spare Ps (spare.cpp), not lent at present.
enum : uint32_t { P_IDLE, P_RUNNING, P_SYSCALL, P_SPARE };
constexpr int SPARE_PS = 16;  // lent while Ms block in the kernel outside syscall sections

struct P {
  int id;
  std::atomic<uint32_t> status{P_IDLE};
  std::atomic<uint32_t> syscalltick{0};  // bumped at each syscall_enter
  uint64_t syscall_gid = 0;              // the G that entered it (for probes)
  M* m;                 // owning M, nullptr when idle or in a syscall
  P* link;              // idle list
  runq q;
  G* gfree = nullptr;   // dead Gs kept for reuse, with their stacks
  int ngfree = 0;
  std::atomic<uint32_t> schedtick{0};  // bumped by the owner at each G it runs
  std::atomic<int> mtid{0};             // tid of the owning M while RUNNING (for sysmon's signal)
  std::atomic<bool> preempt{false};     // sysmon asked the running G to yield (preempt.cpp)
  std::atomic<bool> retire{false};      // a lent spare P to give back (spare.cpp)
  P* helper = nullptr;                  // spare lent while this P's M is stuck (sysmon only)
  // Statistics, written by the owner only (no locked instruction on the
  // switch path); stats_print sums them over the Ps.
  std::atomic<uint64_t> nswitches{0};
  std::atomic<uint64_t> nparks{0};
  std::atomic<uint64_t> ncreated{0};  // Gs created by Gs running on this P
  // G ids handed out by this P: [idcache, idcache_end), taken from the
  // global counter GOID_BATCH at a time (as Go's goidcache).
  uint64_t idcache = 0;
  uint64_t idcache_end = 0;
};

struct switch_req;  // what g0 does after a G switched to it (sched.cpp)

struct M {
  int id;
  int tid;
  void* tcb;             // this OS thread's own (NPTL) thread pointer
  fcontext_t g0ctx;      // g0's context while a G runs
  G* curg;
  P* p;
  P* nextp;              // P handed over by startm
  P* oldp;               // P left behind by syscall_enter
  M* link;               // idle list
  uint64_t sigmask;      // this OS thread's signal mask as last set by us
  std::atomic<bool> idle_sleeping{false};  // asleep in stopm: holds no lock of ours
  bool spinning;
  bool can_exit;         // made by newm: may end after being idle a while
  note park;             // sleep while idle
  uint32_t rand;
  const void* g0_stack_bottom;  // AddressSanitizer fiber bookkeeping
  size_t g0_stack_size;
  void* g0_asan_fake_stack;
  void* tsan_fiber;      // ThreadSanitizer's state of this OS thread (tsan builds)
};

// Scheduler globals. `lock` protects the global run queue and the idle P
// and M lists; counters are atomics read without it.
struct sched_t {
  lock mu;
  G* runq_head = nullptr;
  G* runq_tail = nullptr;
  std::atomic<int> runq_size{0};
  P* pidle = nullptr;
  std::atomic<int> npidle{0};
  M* midle = nullptr;
  int nmidle = 0;
  std::atomic<int> nmspinning{0};
  std::atomic<int> mcount{0};
  P* allp = nullptr;  // nprocs Ps, then SPARE_PS spares (P_SPARE unless lent)
  int nprocs = 0;     // GREEN_PROCS
  int nallp = 0;      // nprocs + SPARE_PS: bound of every loop over allp
  std::atomic<int> nactive{0};  // Ps in use: nprocs + spares lent
  std::atomic<bool> started{false};
  config cfg;
};
extern sched_t sched;

struct stats_t {
  std::atomic<uint64_t> gs_created{0};  // without a P (plus P.ncreated: stats_gs_created)
  std::atomic<int64_t> live_gs{0};
  std::atomic<int64_t> peak_gs{0};
  std::atomic<uint64_t> ms_created{0};
  std::atomic<uint64_t> steals{0};
  std::atomic<uint64_t> wakeups{0};  // idle Ms woken by startm
  std::atomic<uint64_t> syscalls{0};  // syscall sections entered
  std::atomic<uint64_t> handoffs{0};  // Ps retaken from Ms blocked in the kernel
  std::atomic<uint64_t> spares_lent{0};      // spare Ps lent to Ps whose M was stuck
  std::atomic<uint64_t> preempt_signals{0};  // preemption signals sent by sysmon
  std::atomic<uint64_t> preempts{0};         // Gs switched out by the signal
  std::atomic<uint64_t> preempt_unsafe{0};   // signals that found the G at an unsafe point
};
extern stats_t stats;
uint64_t stats_switches();  // Gs switched in so far, over every P (stats.cpp)
uint64_t stats_gs_created();  // Gs created so far
// Bump a statistics counter that only its owner writes.
inline void count(std::atomic<uint64_t>& c) {
  c.store(c.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// ---- current context (sched.cpp) ----
// Each TCB (every G's and every M's own) has its own copy of these, since
// libgreen's TLS lives in the static TLS block like everyone's.
extern __thread G* tls_g;  // non-null only on a G's TCB
extern __thread M* tls_m;  // non-null only on an M's own TCB (g0)
inline G* getg() { return tls_g; }
// The current G if it may switch out (park, yield, syscall section), else null.
inline G* getg_switchable() {
  G* g = tls_g;
  return g && !g->nopark ? g : nullptr;
}
inline M* getm() {
  G* g = tls_g;
  return g ? g->m : tls_m;
}
// The P of the calling M (owner-only P state may be used), or null.
inline P* getp() {
  M* m = getm();
  return m ? m->p : nullptr;
}

// ---- sched.cpp ----
void sched_init(const config& cfg);
void ready(G* g);                       // make a waiting/new G runnable
// Current G -> waiting; g0 then releases unlock_after and calls then(arg).
void park_current(lock* unlock_after, void (*then)(void*) = nullptr, void* arg = nullptr);
// Current G -> runnable (the back of its P's queue), let others run.
// here: wake no idle P for it: it is to run after the others on this P
// (a mutex's starvation yield: an idle P taking it would contend again).
void gosched(bool here = false);
[[noreturn]] void goexit();              // current G is dead; g0 (or its joiner) finishes it
[[noreturn]] void mstart_current(G* first);  // calling OS thread becomes an M
void wakep();
int64_t nanotime();
// A detached OS thread made with the real pthread_create (Ms, sysmon, the
// poller); returns 0 or the error.
int start_os_thread(void* (*fn)(void*), void* arg);
// Scheduler pieces used by syscall.cpp and sysmon.cpp (sched.mu rules as in
// sched.cpp): bind/unbind a P, put a P back to work or to idle.
void acquirep(M* m, P* p);
P* pidleget_locked();
void handoffp(P* p);                    // p taken from a blocked M: find it an M or idle it
// syscall.cpp: take p from the M blocked in its syscall section (P_SYSCALL
// -> P_IDLE) and handoffp it; false if that M took it back first. sysmon's
// retake and a section announced as blocking both hand a P on this way.
bool retake_syscall_p(P* p);
void syscall_park_current();            // current G has no P: queue it, park its M
void sysmon_kick();                     // a syscall section began: make sure sysmon watches
void g_entry(transfer_t t);             // first frame of every G
void timers_changed(int64_t when);      // a timer earlier than before was added
void gopreempt(const void* mask);       // from the preemption handler: requeue the G globally;
                                        // g0 then restores the M's signal mask (kernel sigset_t)

// ---- parking.cpp: interruption ----
enum : uint32_t { INTR_CANCEL = 1u, INTR_SIGNAL = 2u };
// Set bits on g and, if g waits in an interruptible park, wake it with
// park_result::interrupted. A G not parked keeps the bits: its next
// interruptible park returns at once (unless only_if_parked, then they
// are withdrawn).
void interrupt(G* g, uint32_t bits, bool only_if_parked = false);
inline bool parked_interruptibly(const G* g) {
  return g->park_bucket.load(std::memory_order_acquire) != nullptr;
}

// ---- signal.cpp ----
void kernel_mask_set(M* m, uint64_t mask);  // m's kernel mask := mask (no-op if already)
uint64_t kernel_mask_get();                 // the calling thread's kernel mask
void signals_g_created(G* g, uint64_t mask);
void signals_g_exited(G* g);
void signals_set_main(G* g);
// g (current, in its syscall section) waits in sigsuspend/pause for the
// signals `accepts` (G.suspend_accepts) until suspend_end; signal_forward
// looks for such Gs only while any is.
void suspend_begin(G* g, uint64_t accepts);
void suspend_end(G* g);
uint64_t creator_mask();                    // mask a thread created now inherits
uint64_t idle_mask();                       // what an idle M blocks
void block_all_signals();                   // runtime threads without Gs
void deliver_pending(G* g);                 // g is current and running: raise what it may take
void signals_redeliver();                   // sysmon: re-raise deferred signals, poke Ms
void signals_want_poke();                   // a G's pending signal waits for a safe point
inline void deliver_pending_fast(G* g) {
  if (__builtin_expect(g->sigpending.load(std::memory_order_relaxed) != 0, 0)) deliver_pending(g);
}

// ---- spare.cpp ----
void spare_check(int64_t now);          // sysmon: lend spares to stuck Ps, take them back
void spare_return(M* m);                // m holds a retiring spare: give it back (sched.cpp)
bool in_libgreen(uintptr_t pc);         // preempt.cpp's view of our own code

// ---- intr.cpp: getting a G out of the kernel (signals.h) ----
bool intr_init();                       // install the wake signal's handler
// g may wait in the kernel in syscall_intr: if so, signal its M so that
// the call returns EINTR (at most one signal per section; see intr.cpp).
void wake_section(G* g);
// g runs: signal its M so that an asynchronous cancellation is acted on
// at once if g runs application code (see cancel_async_signal).
void wake_running(G* g);
// pc is in syscall_intr's system call stub: libgreen code that holds no
// lock, where a handler may run as in glibc's own system call wrappers.
bool in_intr_stub(uintptr_t pc);

// ---- cancel.cpp ----
enum : uint32_t {
  CANCEL_REQUESTED = 1u,  // pthread_cancel was called
  CANCEL_DISABLED = 2u,   // PTHREAD_CANCEL_DISABLE
  CANCEL_ASYNC = 4u,      // PTHREAD_CANCEL_ASYNCHRONOUS
  CANCEL_EXITING = 8u,    // unwinding for pthread_exit or a cancellation
};
void cancel_reset(G* g);                // a G is (re)allocated
// From a signal handler of ours that interrupted g at uc: act on an
// asynchronous cancellation if one is due and every frame up to g's entry
// is application code (preempt_safe_point); returns otherwise.
void cancel_async_signal(G* g, void* uc);

// ---- preempt.cpp ----
// From a handler of ours running on g, interrupted at uc: every frame from
// uc up to g's entry is application code (no libc, loader, unwinder or
// libgreen frame), so g may be switched out or unwound there.
bool preempt_safe_point(G* g, void* uc);
bool preempt_init();                    // install the handler; false: preemption stays off
bool preempt_enabled();
int preempt_signal();                   // libgreen's signal (preemption and pokes); 0 before start
int64_t preempt_check(int64_t now);     // sysmon: signal Ps whose G overran; returns the
                                        // longest sysmon may sleep before looking again

// ---- parking.cpp: beyond green.h's park/unpark, for the sync objects ----
// Never 0; changes in the child of fork, where every waiter is gone: a
// record of a wake-up in an object (mutex.cpp's woken flag) stores it and
// counts only while it is current.
extern std::atomic<uint32_t> park_gen;
struct park_opts {
  // Runs once, after the caller is queued and off its stack (on g0 for a G)
  // and the bucket lock is released; also when park returns at once
  // (invalid, deadline already passed). arg must not point into the
  // caller's stack: the caller may be running again meanwhile.
  void (*after)(void*) = nullptr;
  void* after_arg = nullptr;
  const void* requeue_to = nullptr;  // requeue(addr, requeue_to, ...) may move the caller
  wait_on requeue_why;               // what it then waits for (thread dumps)
  bool requeued = false;             // out: moved by requeue, then woken on the new address
  bool front = false;                // queue ahead of every waiter (one that waited already)
};
park_result park(const void* addr, park_validate_fn validate, const void* ctx, int64_t deadline_ns,
                 clockid_t clock, wait_on why, bool interruptible, park_opts* opts);
// unpark_one, and locked(arg, woken, left) runs under the bucket lock before
// the woken waiter can return; woken: 1 if a waiter was dequeued, else 0;
// left: more waiters of addr are queued.
int unpark_one_then(const void* addr, void (*locked)(void* arg, int woken, bool left), void* arg);
// Wait morphing: if the first waiter of `from` allows `to` (park_opts) and
// validate(to, ctx) holds, both checked under both bucket locks, move up to
// n waiters of `from`, in order and while they allow `to`, to the tail of
// `to`'s queue. They keep sleeping (a deadline no longer applies) until an
// unpark of `to`. Returns how many moved.
int requeue(const void* from, const void* to, int n, park_validate_fn validate, const void* ctx);
// If the first waiter of addr is a G, dequeue it as woken and return it
// without readying it: the caller must switch to it. Else nullptr.
G* unpark_take(const void* addr);

// ---- thread.cpp ----
// After g switched away dead: on g0, or on its joiner's stack when
// thread_exit_joiner took the joiner (joiner_taken).
void thread_finish(G* g, bool joiner_taken);
// g (current) is ending: its joiner, taken out of the parking lot (it must
// be switched to, then thread_finish(g, true)), or nullptr.
G* thread_exit_joiner(G* g);

// ---- runq.cpp ----
void runq_put(P* p, G* g, bool next);
G* runq_get(P* p, bool runnext_first = true);  // false: the ring first (fairness)
G* runq_steal(P* thief, P* victim, bool steal_runnext);
bool runq_empty(const P* p);
void globrunq_put(G* g);          // caller holds sched.mu
G* globrunq_get(P* p, int max);   // caller holds sched.mu

// ---- gpool.cpp: G blocks (TCB + static TLS + G), ids, reuse ----
G* galloc(size_t stack_size, void* user_stack, size_t guard);  // nullptr: EAGAIN
void gfree(G* g);                 // back to a free list (called on g0 or by joiner)
bool gpool_trim(int max);         // give back stack memory of up to max dead Gs;
                                  // true if more is pending (idle Ms call it)
G* g_from_handle(pthread_t t);    // nullptr if t is not one of our Gs
// Calls fn on every G not in a free list (racy snapshot: for signals and
// diagnostics); stops and returns false when fn does.
bool for_each_g(bool (*fn)(G* g, void* ctx), void* ctx);
bool g_in_arena(const void* p);
G* g_from_owner_id(int id);       // the live G whose owner_id is id, or nullptr

// ---- tls.cpp: per-G thread control block ----
bool tls_init();                  // read glibc's static TLS geometry; false: unsupported
size_t tls_block_size();          // bytes before the G struct in a block
size_t tls_tcb_offset();          // tcb = block + offset
void tls_setup(G* g, char* block);  // first use of a block
void tls_reset(G* g);             // reuse of a block for a new G
void tls_enter(G* g, M* m);       // about to run g on m: thread pointer, tid
void tls_sanitizer_in(M* m, G* g);   // sanitizer runtimes' per-thread TLS: M -> G
void tls_sanitizer_out(M* m, G* g);  // and back, after g switched away
void tls_start_thread();          // on the new G itself: locale, errno
void tls_run_dtors();             // C++ thread_local destructors of the current G
void tls_tsan_bind(G* g);  // tsan builds: g's TCB reaches ThreadSanitizer state g->tsan_fiber
void tls_mark_alive(void* tcb, int tid);  // fork child: the M's own TCB is in use
int tls_tid(const G* g);          // tid of the M g last ran on (its TCB's tid field)

// ---- stack.cpp ----
bool stack_alloc(stack_desc* s, size_t size, size_t guard);
void stack_free(stack_desc* s);
void stack_release_memory(stack_desc* s);  // keep the reservation, drop pages

// ---- timer.cpp ----
struct timer {
  int64_t when = 0;  // CLOCK_MONOTONIC ns
  void (*fire)(timer*) = nullptr;
  int index = -1;    // position in the heap, -1 when not queued
  std::atomic<int> state{0};
};
void timer_add(timer* t);
void timer_cancel(timer* t);   // returns once the timer will not fire or has fired
int64_t timers_next();         // earliest deadline or INT64_MAX
void timers_run(int64_t now);  // fire every expired timer
bool timers_pending();

// ---- cpuload.cpp ----
void cpuload_sample(int64_t now);  // sysmon, each tick
bool cpu_spare();  // a spinning M would not take a CPU from a runnable thread

// ---- netpoll.cpp ----
int netpoll_poll();  // non-blocking harvest of I/O readiness; events delivered
// The poll M (sched.cpp stopm): block for events until deadline_ns (0: none)
// or netpoll_break; returns them in evs (0: none), for netpoll_deliver once
// it holds a P.
int netpoll_harvest(struct epoll_event* evs, int max, int64_t deadline_ns);
void netpoll_deliver(const struct epoll_event* evs, int n);
void netpoll_break();
void netpoll_sysmon(int64_t now);  // fallback harvest while no M polls
// sched.cpp: whether an idle M is blocked in netpoll_harvest; wake one to
// take that role (first waiter); break the poll M if it polls.
bool netpoll_polling();
void netpoll_need_poller();
void netpoll_break_if_polling();
int netpoll_waiting();  // Gs parked on fd readiness now

// ---- keys.cpp ----
void keys_run_destructors();  // current context's values

// ---- fork.cpp: the runtime across fork() ----
// Each module that owns runtime state has a hook: PREPARE takes its lock
// (so the child copies consistent state), PARENT releases it, CHILD releases
// it and rebuilds the module around the forking G, the only thread left.
enum class fork_phase { prepare, parent, child };
void sched_fork(fork_phase ph);
void timers_fork(fork_phase ph);
void parking_fork(fork_phase ph);
void gpool_fork(fork_phase ph);
void stack_fork(fork_phase ph);
void netpoll_fork(fork_phase ph);
void sysmon_fork(fork_phase ph);
void preempt_fork(fork_phase ph);
void spare_fork(fork_phase ph);
void signals_fork(fork_phase ph);
void tls_fork(fork_phase ph);
void ownfd_fork(fork_phase ph);
// glibc's thread list (glibcthreads.cpp)
bool glibc_threads_init(void* self_tcb, size_t list_offset);  // false: not found, nothing linked
bool glibc_threads_active();
const size_t* glibc_tls_generation();  // GL(dl_tls_generation), or nullptr if not found
void glibc_threads_mark(void* tcb);    // a G's TCB: glibc must not signal it
void glibc_threads_clear(void* tcb, size_t size);  // zero struct pthread but what glibc reads
void glibc_threads_add(G* g);          // link g's TCB, once per process epoch
void glibc_threads_fork_child(G* self);
// /proc reads outside the program's descriptor table (procread.cpp)
int proc_read(const char* path, char* buf, int len);  // as os::read_file
// The kernel's scheduling state of thread tid of this process, as
// /proc/self/task/TID/stat shows it ('R' running or runnable, 'S' asleep,
// 'D' uninterruptible, ...), or 0 if it cannot be read.
char task_state(int tid);
void procread_fork(fork_phase ph);
void setxid_wrap();  // after an OS thread starts: glibc's SIGSETXID handler runs on the M's TCB (setxid.cpp)
void fork_handlers_install();

// ---- stats.cpp ----
void stats_g_created();
void stats_g_exited();

// ---- diagnostics (diag.cpp, deadlock.cpp, dump.cpp) ----
void diag_init();                 // at start: fault handlers, dump signal and its thread
void diag_fork(fork_phase ph);
void diag_thread_started();       // start_os_thread made a runtime thread
extern bool diag_timestamps;      // park records G.wait_since
extern lock diag_mu;              // one dump at a time (dump.cpp); held across fork
// Lives in schedule_loop's frame while an OS thread is an M: gives the M an
// alternate signal stack (a stack overflow's SIGSEGV needs a stack to run
// on) and counts the M among the runtime's threads.
class m_diag {
 public:
  explicit m_diag(M* m);
  ~m_diag();
  m_diag(const m_diag&) = delete;
  m_diag& operator=(const m_diag&) = delete;

 private:
  M* m_;
  void* altstack_;
};
int runtime_threads();            // OS threads libgreen made (Ms, sysmon, poller, dump) alive now
void deadlock_check(M* m);        // m is about to sleep idle: report a deadlock if there is one
// Print every G (state, what it waits for, backtrace from its saved context)
// to fd, headed by `why`. Serialised; runs on any OS thread but a G's.
// stopped: no G can run meanwhile (a deadlock), so stacks may be read directly.
void dump_threads(int fd, const char* why, bool stopped = false);

}  // namespace green
