// The scheduler: Ms running Gs on Ps, in the manner of Go's proc.go.
//
// Switching. A G jumps to its M's g0 (switch_to_g0) with a switch_req
// saying what g0 must do once the G's context is saved (requeue it, release
// the lock that protects the wait queue it sits on, or finish it). Only
// after that can another M see the G, so no G is ever resumed before its
// context is complete. g0 then picks the next G (find_runnable) and jumps to
// it after switching the thread pointer to the G's own TCB (tls_enter); back
// on g0 it switches it to the M's own. Two exceptions: a parking G whose P
// has a G in runnext switches to it directly (park_handoff), and g0's part
// of the park runs on that G's stack before it resumes, with the same order
// (context saved, then the lock released); an ending G whose joiner waits
// switches to the joiner (exit_handoff), and g0's part of the exit
// (thread_finish) runs on the joiner's stack.
//
// Spinning Ms (as Go): an M without work that looks for Gs to steal is
// "spinning". ready() wakes an idle P/M only if no M is spinning (wakep);
// a spinning M that finds work stops spinning and, if it was the last one,
// wakes another (resetspinning). An M that gives up re-checks every run
// queue after it stopped spinning, so work submitted while it was spinning
// is never lost. Idle Ms sleep on a futex (note); they never busy-wait.
//
// Timers: an idle M takes the "timer M" role when timers are pending and
// sleeps until the earliest deadline; timer_add pokes it (or an idle M)
// when a new timer is earlier. Running Ms also run expired timers whenever
// they schedule.
//
// Contracts: find_runnable/execute/stopm run on g0 only; ready may run
// anywhere (a G, g0, a foreign OS thread); park_current/gosched/
// goexit run on a G only.
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <new>
#include <sys/epoll.h>

#include "internal.h"
#include "os.h"
#include "probes.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define GREEN_ASAN 1
#else
#define GREEN_ASAN 0
#endif
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define GREEN_TSAN 1
#else
#define GREEN_TSAN 0
#endif

namespace green {

using boost::context::detail::jump_fcontext;
using boost::context::detail::ontop_fcontext;

// AddressSanitizer must be told about every stack switch (as Boost.Context's
// own fiber classes do under BOOST_USE_ASAN); no-ops in other builds.
namespace {
inline void asan_enter_g(M* m, G* g) {
#if GREEN_ASAN
  __sanitizer_start_switch_fiber(&m->g0_asan_fake_stack, g->stack.base, g->stack.size);
#else
  (void)m, (void)g;
#endif
}
inline void asan_entered_g(M* m, G* g) {
#if GREEN_ASAN
  __sanitizer_finish_switch_fiber(g->asan_fake_stack, &m->g0_stack_bottom, &m->g0_stack_size);
#else
  (void)m, (void)g;
#endif
}
inline void asan_leave_g(M* m, G* g, bool dying) {
#if GREEN_ASAN
  __sanitizer_start_switch_fiber(dying ? nullptr : &g->asan_fake_stack, m->g0_stack_bottom,
                                 m->g0_stack_size);
#else
  (void)m, (void)g, (void)dying;
#endif
}
inline void asan_back_on_g0(M* m) {
#if GREEN_ASAN
  __sanitizer_finish_switch_fiber(m->g0_asan_fake_stack, nullptr, nullptr);
#else
  (void)m;
#endif
}

// ThreadSanitizer: a G is a TSan fiber (gpool.cpp), g0 is its M's own
// state. Every switch is announced with __tsan_switch_to_fiber (with its
// happens-before edge: the two sides of a switch share plain data, such as
// the switch_req and handoff records), always while the thread pointer is
// the M's own TCB: TSan finds the state in use through a word of its TLS,
// which in a G's TCB always names that G (tls.cpp), and in the M's TCB
// names whatever runs on the M. So the announcement before a G runs is
// made on g0 before tls_enter, the one after it on g0 right after the
// thread pointer is back, and a direct G-to-G switch makes it with the
// M's thread pointer set for the call.
inline void tsan_record_m(M* m) {
#if GREEN_TSAN
  m->tsan_fiber = __tsan_get_current_fiber();
#else
  (void)m;
#endif
}
inline void tsan_switch(void* to) {
#if GREEN_TSAN
  __tsan_switch_to_fiber(to, 0);
#else
  (void)to;
#endif
}
inline void tsan_enter_g(G* g) { tsan_switch(GREEN_TSAN ? g->tsan_fiber : nullptr); }
inline void tsan_back_on_g0(M* m) { tsan_switch(GREEN_TSAN ? m->tsan_fiber : nullptr); }
// On a G, about to switch directly to next (its thread pointer not set yet).
inline void tsan_handoff(M* m, G* next) {
#if GREEN_TSAN
  os::set_thread_pointer(m->tcb);
  __tsan_switch_to_fiber(next->tsan_fiber, 0);
#else
  (void)m, (void)next;
#endif
}
}  // namespace

sched_t sched;
__thread G* tls_g;
__thread M* tls_m;

namespace {

enum class req_kind { yield, park, exit, syscall_exit, preempt };

// What a G switched to learns from the one that switched (the record lives
// on the switching side's stack: read it first). prev null: g0's execute
// (next's g0 context is the transfer's). Otherwise prev switched directly
// (park_handoff, exit_handoff), and its half of the switch (req) is done
// on next's stack before next resumes.
struct handoff {
  G* prev;
  struct switch_req* req;
  G* next;
};
}  // namespace

struct switch_req {
  req_kind kind;
  lock* unlock;
  const void* mask;  // preempt: the M's signal mask before the handler ran
  void (*then)(void*) = nullptr;  // park: called after unlock is released
  void* arg = nullptr;
  bool here = false;  // yield: wake no idle P for the yielder (gosched)
};

namespace {

M* timer_m = nullptr;  // idle M sleeping until the next timer (sched.mu)
M* netpoll_m = nullptr;  // idle M blocked in netpoll_harvest (sched.mu)
std::atomic<bool> netpoll_m_set{false};  // netpoll_m != nullptr, read without the lock
int64_t timer_m_deadline = 0;

// Wake idle M m: the poll M (polls: m was netpoll_m, seen under sched.mu)
// waits in epoll_wait, any other on its futex.
void wake_idle(M* m, bool polls) {
  if (polls)
    netpoll_break();
  else
    m->park.wakeup();
}

uint32_t fastrand(M* m) {
  uint32_t x = m->rand;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  m->rand = x;
  return x;
}

// ---- P and M lists (sched.mu held) ----
void pidleput(P* p) {
  p->m = nullptr;
  p->status.store(P_IDLE, std::memory_order_release);
  p->link = sched.pidle;
  sched.pidle = p;
  sched.npidle.fetch_add(1, std::memory_order_relaxed);
}

P* pidleget() {
  P* p = sched.pidle;
  if (p) {
    sched.pidle = p->link;
    sched.npidle.fetch_sub(1, std::memory_order_relaxed);
  }
  return p;
}

void mput(M* m) {
  m->link = sched.midle;
  sched.midle = m;
  sched.nmidle++;
}

M* mget() {
  M* m = sched.midle;
  if (m) {
    sched.midle = m->link;
    sched.nmidle--;
  }
  return m;
}

void mremove(M* m) {
  for (M** pp = &sched.midle; *pp; pp = &(*pp)->link) {
    if (*pp == m) {
      *pp = m->link;
      sched.nmidle--;
      return;
    }
  }
}


}  // namespace

void acquirep(M* m, P* p) {
  GREEN_CHECK(!m->p && !p->m, "acquirep: P or M already bound");
  m->p = p;
  p->m = m;
  p->mtid.store(m->tid, std::memory_order_relaxed);
  // seq_cst: sysmon publishes "sleeping" before its last look at the Ps.
  p->status.store(P_RUNNING, std::memory_order_seq_cst);
  sysmon_kick();  // a busy P needs someone watching (time slice, M stuck in the kernel)
}

P* pidleget_locked() { return pidleget(); }

namespace {

void releasep(M* m) {
  m->p->mtid.store(0, std::memory_order_relaxed);
  m->p->m = nullptr;
  m->p = nullptr;
}

void schedule_loop(M* m);

// prev, which asked to park with req, has its context saved: it is waiting
// from here on. req lives on prev's stack: read it first.
void park_finish(G* prev, switch_req* req) {
  lock* l = req->unlock;
  void (*then)(void*) = req->then;
  void* arg = req->arg;
  prev->status.store(gstatus::waiting, std::memory_order_release);
  if (l) l->release();  // prev may be readied, and run, from here on
  if (then) then(arg);
}

void* mstart(void* arg) {
  M* m = static_cast<M*>(arg);
  m->tid = os::gettid();
  m->tcb = os::thread_pointer();
  m->sigmask = kernel_mask_get();
  tls_m = m;
  tsan_record_m(m);
  GREEN_PROBE2(m_create, m->id, m->tid);
  P* p = m->nextp;
  m->nextp = nullptr;
  acquirep(m, p);
  schedule_loop(m);
  free(m);  // idle M ending: nobody refers to it any more
  return nullptr;
}

M* allocm() {
  M* m = static_cast<M*>(calloc(1, sizeof(M)));
  GREEN_CHECK(m, "out of memory for an M");
  m->id = (int)stats.ms_created.fetch_add(1, std::memory_order_relaxed);
  sched.mcount.fetch_add(1, std::memory_order_relaxed);
  m->rand = 0x9e3779b9u * (uint32_t)(m->id + 1);
  return m;
}

void newm(P* p, bool spinning) {
  // Ms blocked in system calls are the only way to exceed GREEN_PROCS by
  // much; past the cap, stop as Go does rather than exhaust the kernel.
  if (sched.mcount.load(std::memory_order_relaxed) >= sched.cfg.max_ms) {
    diag("libgreen: %d OS threads are blocked in system calls or running, the limit set by "
         "GREEN_MAX_MS (%d); raise GREEN_MAX_MS (up to 100000) if the program needs more\n",
         sched.mcount.load(), sched.cfg.max_ms);
    fatal(__func__, "GREEN_MAX_MS reached", sched.cfg.max_ms);
  }
  M* m = allocm();
  m->can_exit = true;
  m->nextp = p;
  m->spinning = spinning;
  int err = start_os_thread(mstart, m);
  if (err != 0) {
    diag("libgreen: cannot create an OS thread for a P (error %d); running with fewer\n", err);
    {
      lock_guard l(sched.mu);
      pidleput(p);
    }
    if (spinning) sched.nmspinning.fetch_sub(1, std::memory_order_relaxed);
    free(m);
  }
}

// Bind an idle M (or a new one) to p, or to an idle P if p is null.
void startm(P* p, bool spinning) {
  sched.mu.acquire();
  if (!p) p = pidleget();
  if (!p) {
    sched.mu.release();
    if (spinning) sched.nmspinning.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  M* m = mget();
  if (m) {
    m->spinning = spinning;
    m->nextp = p;
  }
  bool polls = m && m == netpoll_m;
  sched.mu.release();
  if (!m) {
    newm(p, spinning);
    return;
  }
  stats.wakeups.fetch_add(1, std::memory_order_relaxed);
  wake_idle(m, polls);
}

void resetspinning(M* m) {
  m->spinning = false;
  if (sched.nmspinning.fetch_sub(1, std::memory_order_acq_rel) == 1) wakep();
}

// Sleep until given a P: returns true with m->p set, or false when this M
// has been idle for M_IDLE_EXIT_NS and should end (never the initial thread,
// never the timer M). Runs timers meanwhile.
constexpr int64_t M_IDLE_EXIT_NS = 1000 * 1000 * 1000;
bool stopm(M* m, bool listed = false) {
  if (!listed) {
    sched.mu.acquire();
    m->nextp = nullptr;
    mput(m);  // listed until it leaves: startm may hand it a P at any time
    sched.mu.release();
  }
  gpool_trim(16);  // idle time: give back memory of dead Gs' stacks
  sched.mu.acquire();
  for (;;) {
    if (P* p = m->nextp) {  // set by startm, which also unlisted us
      m->nextp = nullptr;
      sched.mu.release();
      acquirep(m, p);
      return true;
    }
    m->park.clear();
    int64_t deadline = 0;
    bool timer_role = !timer_m && timers_pending();
    if (timer_role) {
      timer_m = m;
      deadline = timer_m_deadline = timers_next();
    } else if (m->can_exit) {
      deadline = nanotime() + M_IDLE_EXIT_NS;
    }
    // Gs wait for I/O and no one polls: this M waits in epoll_wait instead
    // of on its futex (as Go's findrunnable), still listed as idle (startm
    // and timers_changed wake it with netpoll_break), never ending idle.
    bool poll_role = !netpoll_m && netpoll_waiting() > 0;
    if (poll_role) {
      netpoll_m = m;
      netpoll_m_set.store(true, std::memory_order_relaxed);
      if (!timer_role) deadline = 0;
    }
    sched.mu.release();
    kernel_mask_set(m, idle_mask());  // take only signals some G would take
    deadlock_check(m);  // the last M going idle may find every G blocked for good
    m->idle_sleeping.store(true, std::memory_order_relaxed);
    bool woken = true;
    if (poll_role) {
      struct epoll_event evs[128];
      int n = netpoll_harvest(evs, 128, deadline);
      m->idle_sleeping.store(false, std::memory_order_relaxed);
      sched.mu.acquire();
      netpoll_m = nullptr;
      netpoll_m_set.store(false, std::memory_order_relaxed);
      if (timer_m == m) timer_m = nullptr;
      if (n > 0) {
        // Run what the events readied here: with a P (one startm handed
        // over, or an idle one) they go to its queue; without, to the
        // global queue for the busy Ms.
        P* p = m->nextp;
        if (p)
          m->nextp = nullptr;
        else if ((p = pidleget()))
          mremove(m);
        sched.mu.release();
        if (p) {
          acquirep(m, p);
          netpoll_deliver(evs, n);
          return true;
        }
        netpoll_deliver(evs, n);
        sched.mu.acquire();
      }
      if (m->nextp) continue;
      // fall through: due timers, queued work
    } else {
      woken = m->park.sleep(deadline);
      m->idle_sleeping.store(false, std::memory_order_relaxed);
      sched.mu.acquire();
      if (timer_m == m) timer_m = nullptr;
      if (m->nextp) continue;
    }
    if (!woken && !timer_role && m->can_exit) {  // idle for M_IDLE_EXIT_NS
      mremove(m);
      sched.mcount.fetch_sub(1, std::memory_order_relaxed);
      sched.mu.release();
      return false;
    }
    if (timers_next() <= nanotime() || sched.runq_size.load(std::memory_order_relaxed) > 0) {
      if (P* p = pidleget()) {
        mremove(m);
        sched.mu.release();
        acquirep(m, p);
        return true;
      }
    }
    if (timers_pending()) {
      // Every P is busy: fire due timers here (still listed as idle); their
      // Gs go to the global queue, where the busy Ms look at their next
      // schedule.
      sched.mu.release();
      timers_run(nanotime());
      sched.mu.acquire();
    }
  }
}

G* steal_work(M* m) {
  P* p = m->p;
  for (int round = 0; round < 4; round++) {
    uint32_t start = fastrand(m) % sched.nallp;
    for (int i = 0; i < sched.nallp; i++) {
      P* victim = &sched.allp[(start + i) % sched.nallp];
      if (victim == p) continue;
      if (G* g = runq_steal(p, victim, round == 3)) return g;
    }
  }
  return nullptr;
}

// A spinning M that found nothing keeps looking for SPIN_NS before it gives
// up its P: work that arrives meanwhile (bursts of ready()) then finds a
// spinning M and costs no futex wake-up. Bounded, only spinning Ms (at
// most half the busy Ps) do it, and only while a CPU is spare (cpuload).
// I/O readied while no M blocks in epoll_wait (every M busy): harvest
// here, as Go's findrunnable. Whether it queued work on p.
bool harvest_for(P* p) { return !netpoll_polling() && netpoll_poll() > 0 && !runq_empty(p); }

constexpr int64_t SPIN_NS = 20000;
bool poll_for_work(M* m) {
  int64_t until = nanotime() + SPIN_NS;
  do {
    for (int i = 0; i < 64; i++) __builtin_ia32_pause();
    // A timer only counts once due: a pending one is the timer M's to wait
    // for, and treating it as work spun a whole core while threads slept.
    if (sched.runq_size.load(std::memory_order_relaxed) > 0 || timers_next() <= nanotime())
      return true;
    if (harvest_for(m->p)) return true;
    for (int i = 0; i < sched.nallp; i++) {
      P* v = &sched.allp[i];
      if (v != m->p && v->q.head.load(std::memory_order_relaxed) !=
                           v->q.tail.load(std::memory_order_relaxed))
        return true;
    }
  } while (nanotime() < until);
  return false;
}

// Find a G to run; block (stopm) until there is one. Returns with m->p set,
// or nullptr when the M should end (idle too long).
G* find_runnable(M* m) {
top:
  P* p = m->p;
  if (__builtin_expect(p->retire.load(std::memory_order_relaxed), 0)) {  // a lent spare
    spare_return(m);
    if (!stopm(m)) return nullptr;
    goto top;
  }
  if (timers_pending()) timers_run(nanotime());
  // Every 61st switch: the global queue, then the local ring ahead of
  // runnext, which a hand-over pair would otherwise keep full for ever.
  bool fair_tick = p->schedtick.load(std::memory_order_relaxed) % 61 == 0;
  if (fair_tick && sched.runq_size.load(std::memory_order_relaxed) > 0) {
    lock_guard l(sched.mu);
    if (G* g = globrunq_get(p, 1)) return g;
  }
  if (G* g = runq_get(p, !fair_tick)) return g;
  if (sched.runq_size.load(std::memory_order_relaxed) > 0) {
    lock_guard l(sched.mu);
    if (G* g = globrunq_get(p, 0)) return g;
  }
  if (harvest_for(p)) goto top;  // before stealing, as Go
  int active = sched.nactive.load(std::memory_order_relaxed);
  int busy = active - sched.npidle.load(std::memory_order_relaxed);
  if (active > 1 &&
      (m->spinning || 2 * sched.nmspinning.load(std::memory_order_relaxed) < busy)) {
    if (!m->spinning) {
      m->spinning = true;
      sched.nmspinning.fetch_add(1, std::memory_order_relaxed);
    }
    if (G* g = steal_work(m)) return g;
    // Spin on only while a CPU would otherwise idle (cpuload.cpp): on an
    // oversubscribed machine the spin takes the CPU of a runnable thread.
    if (m->spinning && cpu_spare() && poll_for_work(m)) goto top;
  }
  // Nothing to do: give up the P. (I/O readied from now on is stopm's: with
  // no M blocked in epoll_wait this one becomes that M.)
  sched.mu.acquire();
  if (sched.runq_size.load(std::memory_order_relaxed) > 0) {
    G* g = globrunq_get(p, 0);
    sched.mu.release();
    return g;
  }
  // Idle the P and list the M in one critical section: no one can see an
  // idle P without an idle M and start a redundant M for it.
  releasep(m);
  pidleput(p);
  m->nextp = nullptr;
  // Listed idle, m->spinning is startm's to set for our next wake-up: read
  // and clear ours before anyone can take us.
  bool was_spinning = m->spinning;
  m->spinning = false;
  mput(m);
  sched.mu.release();
  if (was_spinning) {
    sched.nmspinning.fetch_sub(1, std::memory_order_acq_rel);
    // Work readied while we were spinning saw nmspinning > 0 and did not
    // wake anyone: look again now that we no longer count as spinning.
    for (int i = 0; i < sched.nallp; i++) {
      if (runq_empty(&sched.allp[i])) continue;
      sched.mu.acquire();
      P* np = m->nextp ? nullptr : pidleget();
      if (np) mremove(m);
      sched.mu.release();
      if (np) {
        acquirep(m, np);
        m->spinning = true;
        sched.nmspinning.fetch_add(1, std::memory_order_relaxed);
        goto top;
      }
      break;
    }
  }
  if (!stopm(m, true)) return nullptr;
  goto top;
}

// g is about to run on m (which holds a P): what every switch to a G does
// first, through g0 (execute) or not (park_handoff).
void switch_in(M* m, G* g) {
  m->curg = g;
  P* p = m->p;
  // Owner-only writes: plain load and store, no locked instruction.
  p->schedtick.store(p->schedtick.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  if (p->preempt.load(std::memory_order_relaxed)) p->preempt.store(false, std::memory_order_relaxed);
  g->m = m;
  g->status.store(gstatus::running, std::memory_order_relaxed);
  count(p->nswitches);
  kernel_mask_set(m, g->sigmask.load(std::memory_order_relaxed));  // usually equal: no syscall
}

void execute(M* m, G* g) {
  switch_in(m, g);
  asan_enter_g(m, g);
  tls_sanitizer_in(m, g);
  tsan_enter_g(g);
  tls_enter(g, m);  // from here until we are back, no TLS access on g0
  handoff h{nullptr, nullptr, g};  // read by g_entry if g starts here
  transfer_t t = jump_fcontext(g->ctx, &h);
  os::set_thread_pointer(m->tcb);
  tsan_back_on_g0(m);
  G* prev = m->curg;
  tls_sanitizer_out(m, prev);
  asan_back_on_g0(m);
  prev->ctx = t.fctx;
  m->curg = nullptr;
  auto* req = static_cast<switch_req*>(t.data);
  switch (req->kind) {
    case req_kind::yield: {
      bool here = req->here;  // on prev's stack: read before prev is visible
      prev->status.store(gstatus::runnable, std::memory_order_relaxed);
      runq_put(m->p, prev, false);
      if (!here) wakep();  // an idle P could run it (or what is queued before it)
      break;
    }
    case req_kind::park:
      park_finish(prev, req);
      break;
    case req_kind::exit:
      thread_finish(prev, false);
      break;
    case req_kind::syscall_exit: {  // prev came back from the kernel and found no P
      prev->status.store(gstatus::runnable, std::memory_order_relaxed);
      {
        lock_guard l(sched.mu);
        globrunq_put(prev);
      }
      wakep();  // a P may have gone idle since syscall_exit looked
      break;
    }
    case req_kind::preempt: {  // switched out from the preemption handler
      const void* mask = req->mask;  // on prev's stack: read before prev is visible
      uint64_t saved;
      memcpy(&saved, mask, sizeof saved);
      prev->status.store(gstatus::runnable, std::memory_order_relaxed);
      {
        lock_guard l(sched.mu);
        globrunq_put(prev);  // behind every waiting G, as Go's gopreempt_m
      }
      // The handler's frame stays on prev's stack with the preemption signal
      // blocked in this M; the next G must run with the mask prev had.
      m->sigmask = ~saved;  // force the system call
      kernel_mask_set(m, saved);
      wakep();
      break;
    }
  }
}

}  // namespace

// m's P is a spare being taken back: its queued Gs go to the global queue,
// the P back to the spares, and m looks for another P (stopm).
void spare_return(M* m) {
  P* p = m->p;
  while (G* g = runq_get(p)) {
    lock_guard l(sched.mu);
    globrunq_put(g);
  }
  {
    lock_guard l(sched.mu);
    releasep(m);
    p->retire.store(false, std::memory_order_relaxed);
    p->status.store(P_SPARE, std::memory_order_release);
    sched.nactive.fetch_sub(1, std::memory_order_relaxed);
  }
  wakep();
}

namespace {

// Returns only when an idle M ends (see stopm).
void schedule_loop(M* m) {
  m_diag diag_scope(m);  // alternate signal stack; counted as a runtime thread (diag.cpp)
  for (;;) {
    if (!m->p && !stopm(m)) return;  // back from a syscall whose P was taken
    G* g = find_runnable(m);
    if (!g) return;
    if (m->spinning) resetspinning(m);
    execute(m, g);
  }
}

// Jump from the current G to its M's g0 with req; returns when the G is
// resumed, possibly on another M.
void switch_to_g0(switch_req* req) {
  G* g = getg();
  GREEN_ASSERT(g && g->m);
  asan_leave_g(g->m, g, req->kind == req_kind::exit);
  transfer_t t = jump_fcontext(g->m->g0ctx, req);
  g->m->g0ctx = t.fctx;
  asan_entered_g(g->m, g);
  deliver_pending_fast(g);  // pthread_kill while it was away
}

// ---- switching G to G (no trip through g0) ----
// A G that parks right after readying another (a condvar or mutex
// hand-over, a semaphore post then wait, a create then join) would go to
// g0 only for g0 to take that G from runnext and jump to it. park_handoff
// switches to it directly: one stack switch and one thread-pointer write
// instead of two each. It does execute()'s part for next before the switch
// (switch_in), and g0's part of a park for prev right after it on next's
// stack, where prev's context is known: save it, then park_finish. A G that
// has run resumes through ontop_fcontext (finish_handoff); a G that never
// ran starts in g_entry, which does the same when its handoff names a prev.
// Likewise a G that ends while its joiner waits (exit_handoff) takes the
// joiner out of the parking lot and switches to it; thread_finish then runs
// on the joiner's stack (the dead G's stack may be reused once the join
// completes, so nothing of it runs after that). Every 61st switch of a P,
// and every switch while timers are pending, still goes through g0, so the
// global queue and the timers are looked at as often as before.

[[maybe_unused]] transfer_t finish_handoff(transfer_t t) {
  auto* h = static_cast<handoff*>(t.data);  // on prev's stack: read it first
  G* prev = h->prev;
  M* m = prev->m;  // prev may run elsewhere once it is parked
  prev->ctx = t.fctx;
  park_finish(prev, h->req);
  return transfer_t{m->g0ctx, nullptr};  // what next's switch_to_g0 expects from g0
}

[[maybe_unused]] transfer_t finish_exit(transfer_t t) {
  G* prev = static_cast<G*>(t.data);
  M* m = prev->m;
  thread_finish(prev, true);
  return transfer_t{m->g0ctx, nullptr};
}

// May the running G on m switch to another G directly, with no g0 trip?
bool may_handoff(M* m) {
#if GREEN_ASAN
  (void)m;
  return false;  // the fiber annotations assume every switch goes through g0
#else
  // The switches on which find_runnable looks past runnext (its fairness
  // tick: schedtick before execute bumps it) go through g0.
  P* p = m->p;
  return p && p->schedtick.load(std::memory_order_relaxed) % 61 != 0 && !timers_pending();
#endif
}

bool park_handoff(G* g, switch_req* req) {
  M* m = g->m;
  if (!may_handoff(m)) return false;
  P* p = m->p;
  G* next = p->q.runnext.load(std::memory_order_relaxed);
  if (!next || !p->q.runnext.compare_exchange_strong(next, nullptr, std::memory_order_acq_rel))
    return false;
  switch_in(m, next);
  tsan_handoff(m, next);
  tls_enter(next, m);  // from here on, TLS is next's
  handoff h{g, req, next};
  transfer_t t = next->started ? ontop_fcontext(next->ctx, &h, finish_handoff)
                               : jump_fcontext(next->ctx, &h);
  // Resumed (by g0, or by another G's handoff), as after switch_to_g0.
  g->m->g0ctx = t.fctx;
  deliver_pending_fast(g);
  return true;
}

// g is ending (thread_exit): if its joiner waits, switch to it. Returns
// only when g must go through g0 (nothing done then).
void exit_handoff(G* g) {
  M* m = g->m;
  if (!may_handoff(m)) return;
  G* next = thread_exit_joiner(g);
  if (!next) return;
  switch_in(m, next);
  tsan_handoff(m, next);
  tls_enter(next, m);
  ontop_fcontext(next->ctx, g, finish_exit);
  fatal(__func__, "a dead G was resumed");
}

}  // namespace

void g_entry(transfer_t t) {
  auto* h = static_cast<handoff*>(t.data);  // on the switching side's stack
  G* g = h->next;
  G* prev = h->prev;
  switch_req* req = h->req;
  g->started = true;
  tls_g = g;  // the thread pointer is already g's TCB: this is g's own copy
  if (prev) {  // park_handoff: g0's half of prev's park, here
    prev->ctx = t.fctx;
    park_finish(prev, req);
  } else {
    g->m->g0ctx = t.fctx;
  }
  asan_entered_g(g->m, g);
  tls_start_thread();
  deliver_pending_fast(g);
  mark_user_entry();
  void* result = g->fn(g->arg);
  thread_exit(result);
}

__attribute__((noinline)) void mark_user_entry() {
  // Our CFA is the caller's SP at the call, which is also its SP when it
  // calls the application right after: every older frame is runtime code.
  if (G* g = getg()) g->entry_sp = reinterpret_cast<uintptr_t>(__builtin_dwarf_cfa());
}

int64_t nanotime() { return os::now_ns(CLOCK_MONOTONIC); }

int start_os_thread(void* (*fn)(void*), void* arg) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  // Born with every asynchronous signal blocked: until it runs a G (which
  // sets its own mask) or forever (sysmon, the poller), the kernel must
  // not pick it for a process signal: its default action would kill us.
  sigset_t quiet;
  sigfillset(&quiet);
  for (int s : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP}) sigdelset(&quiet, s);
  pthread_attr_setsigmask_np(&attr, &quiet);
  pthread_t t;
  int err = sched.cfg.os_thread_create(&t, &attr, fn, arg);
  if (err == 0) {
    diag_thread_started();
    setxid_wrap();
  }
  pthread_attr_destroy(&attr);
  return err;
}

void sched_init(const config& cfg) {
  sched.cfg = cfg;
  sched.nprocs = cfg.procs;
  sched.nallp = cfg.procs + SPARE_PS;
  sched.nactive.store(cfg.procs, std::memory_order_relaxed);
  sched.allp = static_cast<P*>(calloc((size_t)sched.nallp, sizeof(P)));
  GREEN_CHECK(sched.allp, "out of memory for Ps");
  lock_guard l(sched.mu);
  for (int i = sched.nallp - 1; i >= 0; i--) {
    new (&sched.allp[i]) P();
    sched.allp[i].id = i;
    if (i < cfg.procs)
      pidleput(&sched.allp[i]);
    else
      sched.allp[i].status.store(P_SPARE, std::memory_order_relaxed);
  }
}

void wakep() {
  if (sched.npidle.load(std::memory_order_acquire) == 0) return;
  int zero = 0;
  if (sched.nmspinning.load(std::memory_order_relaxed) != 0 ||
      !sched.nmspinning.compare_exchange_strong(zero, 1, std::memory_order_acq_rel))
    return;
  startm(nullptr, true);
}

void ready(G* g) {
  GREEN_PROBE1(ready, g->id);
  g->status.store(gstatus::runnable, std::memory_order_relaxed);
  P* p = getp();
  if (p) {
    runq_put(p, g, true);
  } else {
    lock_guard l(sched.mu);
    globrunq_put(g);
  }
  wakep();
}

void park_current(lock* unlock_after, void (*then)(void*), void* arg) {
  if (P* p = getm()->p) count(p->nparks);
  switch_req req{req_kind::park, unlock_after, nullptr, then, arg};
  if (!park_handoff(getg(), &req)) switch_to_g0(&req);
}

void gosched(bool here) {
  switch_req req{req_kind::yield, nullptr, nullptr};
  req.here = here;
  switch_to_g0(&req);
}

void gopreempt(const void* mask) {
  switch_req req{req_kind::preempt, nullptr, mask};
  switch_to_g0(&req);
}

void syscall_park_current() {
  switch_req req{req_kind::syscall_exit, nullptr, nullptr};
  switch_to_g0(&req);
}

// p was taken from an M blocked in the kernel: give it to an M if there is
// anything for it to do (or nobody else looks for work), else idle it.
void handoffp(P* p) {
  if (!runq_empty(p) || sched.runq_size.load(std::memory_order_relaxed) > 0 || timers_pending()) {
    startm(p, false);
    return;
  }
  int zero = 0;
  if (sched.npidle.load(std::memory_order_relaxed) == 0 &&
      sched.nmspinning.compare_exchange_strong(zero, 1, std::memory_order_acq_rel)) {
    startm(p, true);
    return;
  }
  sched.mu.acquire();
  if (sched.runq_size.load(std::memory_order_relaxed) > 0) {
    sched.mu.release();
    startm(p, false);
    return;
  }
  pidleput(p);
  sched.mu.release();
}

[[noreturn]] void goexit() {
  exit_handoff(getg());
  switch_req req{req_kind::exit, nullptr, nullptr};
  switch_to_g0(&req);
  fatal(__func__, "a dead G was resumed");
}

[[noreturn]] void mstart_current(G* first) {
  M* m = allocm();
  m->tid = os::gettid();
  m->tcb = os::thread_pointer();
  m->sigmask = kernel_mask_get();
  tls_m = m;
  tsan_record_m(m);
  GREEN_PROBE2(m_create, m->id, m->tid);
  P* p;
  {
    lock_guard l(sched.mu);
    p = pidleget();
  }
  if (p) {
    acquirep(m, p);
    if (first) runq_put(p, first, true);
  } else {
    if (first) ready(first);
    stopm(m);
  }
  schedule_loop(m);
  fatal(__func__, "the initial M left the scheduler");
}

// In the child of fork only the forking G and its M exist: empty every
// queue, forget every other M, give back every P but the forking G's.
void sched_fork(fork_phase ph) {
  if (ph == fork_phase::prepare) return sched.mu.acquire();
  if (ph == fork_phase::parent) return sched.mu.release();
  M* m = getm();
  P* mine = m ? (m->p ? m->p : m->oldp) : nullptr;
  sched.runq_head = sched.runq_tail = nullptr;
  sched.runq_size.store(0, std::memory_order_relaxed);
  sched.midle = nullptr;
  sched.nmidle = 0;
  sched.nmspinning.store(0, std::memory_order_relaxed);
  sched.mcount.store(m ? 1 : 0, std::memory_order_relaxed);
  timer_m = nullptr;
  netpoll_m = nullptr;
  netpoll_m_set.store(false, std::memory_order_relaxed);
  sched.pidle = nullptr;
  sched.npidle.store(0, std::memory_order_relaxed);
  for (int i = sched.nallp - 1; i >= 0; i--) {
    P* p = &sched.allp[i];
    p->q.head.store(0, std::memory_order_relaxed);
    p->q.tail.store(0, std::memory_order_relaxed);
    p->q.runnext.store(nullptr, std::memory_order_relaxed);
    p->helper = nullptr;
    p->retire.store(false, std::memory_order_relaxed);
    if (p == mine) {  // RUNNING with m, or SYSCALL until m's syscall_exit
      if (i >= sched.nprocs) p->retire.store(true, std::memory_order_relaxed);  // give it back
      continue;
    }
    if (i < sched.nprocs)
      pidleput(p);
    else
      p->status.store(P_SPARE, std::memory_order_relaxed);
  }
  sched.nactive.store(sched.nprocs + (mine && mine->id >= sched.nprocs), std::memory_order_relaxed);
  if (m) {
    m->tid = os::gettid();
    tls_mark_alive(m->tcb, m->tid);
    m->spinning = false;
    m->nextp = nullptr;
    m->link = nullptr;
    new (&m->park) note();
  }
  stats.live_gs.store(getg() ? 1 : 0, std::memory_order_relaxed);
  sched.mu.release();
}

// A timer was added: make sure some M will wake up for it in time.
void timers_changed(int64_t when) {
  M* poke = nullptr;
  bool start = false, poke_polls = false;
  {
    lock_guard l(sched.mu);
    if (timer_m) {
      if (when < timer_m_deadline) poke = timer_m;
    } else if (sched.npidle.load(std::memory_order_relaxed) > 0) {
      poke = sched.midle;  // becomes the timer M when it goes back to sleep
      // An idle P and no M to spare (every M holds a P): start one to take
      // the role. An M between sleeps takes it when it goes back to sleep.
      int busy = sched.nactive.load(std::memory_order_relaxed) -
                 sched.npidle.load(std::memory_order_relaxed);
      start = !poke && sched.mcount.load(std::memory_order_relaxed) <= busy;
    }
    poke_polls = poke && poke == netpoll_m;
  }
  if (poke) wake_idle(poke, poke_polls);
  if (start) startm(nullptr, false);
}

bool netpoll_polling() { return netpoll_m_set.load(std::memory_order_relaxed); }

void netpoll_need_poller() {
  if (netpoll_m_set.load(std::memory_order_relaxed)) return;
  M* poke = nullptr;
  {
    lock_guard l(sched.mu);
    if (!netpoll_m) poke = sched.midle;  // takes the role when it loops in stopm
  }
  if (poke) poke->park.wakeup();
}

void netpoll_break_if_polling() {
  if (netpoll_m_set.load(std::memory_order_relaxed)) netpoll_break();
}

}  // namespace green
