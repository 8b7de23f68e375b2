// Signals per G. POSIX makes the signal mask and thread-directed signals
// per thread; here a thread is a G, while the kernel only knows Ms.
//
//  - Mask: each G has its own (G.sigmask, inherited at create, changed by
//    pthread_sigmask/sigprocmask through sigmask_change). While a G runs,
//    its M's kernel mask is the G's (execute applies it when it differs,
//    M.sigmask caches what the kernel has), so the kernel itself decides
//    delivery, handler masks and SA_RESTART for a running G. An idle M
//    blocks the signals every live G blocks (idle_mask: per-signal counts
//    of blocking Gs), so a signal all threads block stays pending for the
//    process (for sigwait) instead of landing on an idle M.
//  - Thread-directed (pthread_kill, raise): the signal is recorded in the
//    target's G.sigpending and delivered by the target itself, on its own
//    stack and TCB, with tgkill of its current M from a point where it runs
//    (deliver_pending): at once if it is the caller, after a poke (the
//    preemption signal) if it runs elsewhere, when it is next switched in
//    otherwise. A G blocked in the kernel in a syscall section gets the
//    real signal on its M, so the call is interrupted as natively.
//  - Runtime threads without Gs (sysmon, the poller) block every signal
//    they can, so the kernel never picks them for a process signal.
//
// Invariants: only the owning G writes its sigmask (others read it);
// sigpending bits are set by anyone (fetch_or) and cleared by the owner
// when it delivers them (fetch_and). SIGKILL, SIGSTOP, glibc's two internal
// signals and libgreen's own signal are never blocked.
#include <errno.h>
#include <signal.h>
#include <ucontext.h>

#include "internal.h"
#include "os.h"
#include "signals.h"

namespace green {

namespace {

std::atomic<int> nblocking[64];  // live Gs blocking signal i+1
G* main_g;  // the thread the kernel would prefer for a process signal

inline uint64_t bit(int sig) { return sig > 0 ? 1ull << (sig - 1) : 0; }

uint64_t never_blocked() {
  return bit(SIGKILL) | bit(SIGSTOP) | bit(32) | bit(33) | bit(preempt_signal()) |
         bit(wake_signal());
}

void count(uint64_t set, int delta) {
  while (set) {
    int i = __builtin_ctzll(set);
    set &= set - 1;
    nblocking[i].fetch_add(delta, std::memory_order_relaxed);
  }
}

int cached_pid;  // reset in a fork child

int self_pid() {
  int p = __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);
  if (p) return p;
  p = (int)os::syscall6(SYS_getpid);
  __atomic_store_n(&cached_pid, p, __ATOMIC_RELAXED);
  return p;
}

}  // namespace

void kernel_mask_set(M* m, uint64_t mask) {
  if (m->sigmask == mask) return;
  os::syscall6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&mask, 0, 8);
  m->sigmask = mask;
}

uint64_t kernel_mask_get() {
  uint64_t cur = 0;
  os::syscall6(SYS_rt_sigprocmask, SIG_SETMASK, 0, (long)&cur, 8);
  return cur;
}

// In a fork child only the forking G is left: it alone blocks what it blocks.
void signals_fork(fork_phase ph) {
  if (ph != fork_phase::child) return;
  for (auto& n : nblocking) n.store(0, std::memory_order_relaxed);
  __atomic_store_n(&cached_pid, 0, __ATOMIC_RELAXED);
  main_g = getg();  // the child's only thread is its main thread
  if (main_g) count(main_g->sigmask.load(std::memory_order_relaxed), +1);
}

void signals_g_created(G* g, uint64_t mask) {
  mask &= ~never_blocked();
  g->sigmask.store(mask, std::memory_order_relaxed);
  g->sigpending.store(0, std::memory_order_relaxed);
  count(mask, +1);
}

void signals_g_exited(G* g) {
  count(g->sigmask.load(std::memory_order_relaxed), -1);
  if (g == main_g) main_g = nullptr;
}

uint64_t creator_mask() {
  if (G* g = getg()) return g->sigmask.load(std::memory_order_relaxed);
  return kernel_mask_get();
}

uint64_t idle_mask() {
  int64_t live = stats.live_gs.load(std::memory_order_relaxed);
  if (live <= 0) return 0;
  uint64_t m = 0;
  for (int i = 0; i < 64; i++)
    if (nblocking[i].load(std::memory_order_relaxed) >= live) m |= 1ull << i;
  return m & ~never_blocked();
}

void block_all_signals() {
  uint64_t all = ~(bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGFPE) | bit(SIGTRAP) |
                   bit(SIGKILL) | bit(SIGSTOP) | bit(32) | bit(33));
  os::syscall6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&all, 0, 8);
}

void deliver_pending(G* g) {
  uint64_t take = g->sigpending.load(std::memory_order_acquire) &
                  ~g->sigmask.load(std::memory_order_relaxed);
  if (!take) return;
  take &= g->sigpending.fetch_and(~take, std::memory_order_acq_rel);
  int tid = g->m->tid;
  g->sigdirected.fetch_or(take, std::memory_order_acq_rel);
  g->delivering = true;
  while (take) {
    int sig = __builtin_ctzll(take) + 1;
    take &= take - 1;
    // Unblocked and directed at this M: the kernel runs the handler as this
    // system call returns, on this G.
    os::syscall6(SYS_tgkill, self_pid(), tid, sig);
  }
  g->delivering = false;
}

namespace {
std::atomic<uint64_t> deferred;      // process signals that found an M's g0 busy
std::atomic<bool> poke_wanted;       // a G holds a deferred signal: poke running Ms
}  // namespace

void signals_want_poke() { poke_wanted.store(true, std::memory_order_release); }

// The application's handler must not run while the interrupted code is
// libgreen's own (it may hold a lock the handler's pthread call needs, as
// sem_post from a handler would): except at the two points known to hold
// none (an idle M asleep, a G raising its own pending signals), a signal
// that lands in libgreen is put back. On a G it becomes that G's pending
// signal (the kernel chose this thread), delivered at its next switch or
// by a poke sysmon sends once it runs outside libgreen; on an M's g0 it is
// raised for the process again by sysmon.
bool signal_must_defer(int sig, const siginfo_t* info, const void* ucv) {
  auto* uc = static_cast<const ucontext_t*>(ucv);
  uintptr_t pc = uc ? uc->uc_mcontext.gregs[REG_RIP] : 0;
  if (!uc || !in_libgreen(pc) || in_intr_stub(pc)) return false;  // a blocking call: as glibc's
  G* g = getg();
  M* m = getm();
  if (g ? g->delivering : (m && m->idle_sleeping.load(std::memory_order_relaxed))) return false;
  (void)info;
  if (g) {
    g->sigpending.fetch_or(bit(sig), std::memory_order_acq_rel);
    poke_wanted.store(true, std::memory_order_release);
  } else {
    deferred.fetch_or(bit(sig), std::memory_order_acq_rel);
  }
  sysmon_kick();
  return true;
}

void signals_redeliver() {
  uint64_t d = deferred.exchange(0, std::memory_order_acq_rel);
  while (d) {
    int sig = __builtin_ctzll(d) + 1;
    d &= d - 1;
    os::syscall6(SYS_kill, self_pid(), sig);
  }
  if (!poke_wanted.exchange(false, std::memory_order_acq_rel)) return;
  for (int i = 0; i < sched.nallp; i++) {
    P* p = &sched.allp[i];
    int tid = p->mtid.load(std::memory_order_relaxed);
    if (tid && p->status.load(std::memory_order_acquire) == P_RUNNING)
      os::syscall6(SYS_tgkill, self_pid(), tid, preempt_signal());
  }
}

int sigmask_change(int how, const uint64_t* set, uint64_t* old) {
  G* g = getg();
  if (!g || !sched.started.load(std::memory_order_relaxed)) {
    long r = os::syscall6(SYS_rt_sigprocmask, how, (long)set, (long)old, 8);
    return r < 0 ? (int)-r : 0;
  }
  uint64_t cur = g->sigmask.load(std::memory_order_relaxed), next = cur;
  if (set) {
    switch (how) {
      case SIG_BLOCK: next = cur | *set; break;
      case SIG_UNBLOCK: next = cur & ~*set; break;
      case SIG_SETMASK: next = *set; break;
      default: return EINVAL;
    }
  }
  if (old) *old = cur;
  next &= ~never_blocked();
  if (next == cur) return 0;
  count(next & ~cur, +1);
  count(cur & ~next, -1);
  g->sigmask.store(next, std::memory_order_relaxed);
  if (G* sw = getg_switchable()) kernel_mask_set(sw->m, next);
  else os::syscall6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&next, 0, 8);
  deliver_pending(g);
  return 0;
}

int signal_thread(pthread_t t, int sig) {
  G* g = g_from_handle(t);
  if (!g) return ESRCH;
  if (sig < 0 || sig > 64 || (sig && (bit(sig) & never_blocked() & ~(bit(SIGKILL) | bit(SIGSTOP)))))
    return EINVAL;
  gstatus st = g->status.load(std::memory_order_acquire);
  if (sig == 0 || st == gstatus::dead) return 0;
  g->sigpending.fetch_or(bit(sig), std::memory_order_acq_rel);
  if (g == getg()) {
    deliver_pending(g);
    return 0;
  }
  M* m = g->m;
  if (st == gstatus::syscall && m) {
    // Blocked in the kernel: interrupt the call itself, as natively (or, if
    // the G blocks sig, leave it pending on its M for a sigwait there).
    g->sigpending.fetch_and(~bit(sig), std::memory_order_acq_rel);
    g->sigdirected.fetch_or(bit(sig), std::memory_order_acq_rel);
    os::syscall6(SYS_tgkill, self_pid(), m->tid, sig);
    return 0;
  }
  if (g->sigwait_set.load(std::memory_order_acquire) & bit(sig)) {
    // It waits for sig in sigtimedwait (parked, or about to): it takes the
    // pending signal when its wait returns, even though it blocks it.
    interrupt(g, INTR_SIGNAL);
    return 0;
  }
  if (g->sigmask.load(std::memory_order_relaxed) & bit(sig)) return 0;  // pending until unblocked
  if (st == gstatus::waiting) {
    // Parked: wake it if its wait is interruptible; it then delivers the
    // signal to itself as it resumes, and its call returns EINTR or
    // restarts (signal_handled records SA_RESTART).
    interrupt(g, INTR_SIGNAL, true);
    return 0;
  }
  if (st == gstatus::running && m) {
    // Poke its M: the preemption handler delivers what is pending for the
    // G it interrupts; if that is another G by then, ours gets it when it
    // is next switched in.
    os::syscall6(SYS_tgkill, self_pid(), m->tid, preempt_signal());
  }
  return 0;
}

int signal_take_pending(uint64_t set) {
  G* g = getg();
  if (!g) return 0;
  uint64_t hit = g->sigpending.load(std::memory_order_acquire) & set;
  while (hit) {
    int sig = __builtin_ctzll(hit) + 1;
    if (g->sigpending.fetch_and(~bit(sig), std::memory_order_acq_rel) & bit(sig)) return sig;
    hit &= hit - 1;
  }
  return 0;
}

void sigwait_mark(uint64_t set) {
  G* g = getg();
  if (!g) return;
  g->sigwait_set.store(set, std::memory_order_seq_cst);
  if (!set) g->intr.fetch_and(~INTR_SIGNAL, std::memory_order_acq_rel);  // unused wake-up
}

uint64_t signals_pending_here() {
  G* g = getg();
  return g ? g->sigpending.load(std::memory_order_acquire) : 0;
}

void signals_set_main(G* g) { main_g = g; }

int reserved_signal() { return preempt_signal(); }

bool interrupted_restart() {
  G* g = getg();
  if (!g) return false;
  bool restart = g->intr_restart;
  g->intr_restart = false;
  g->intr.fetch_and(~INTR_SIGNAL, std::memory_order_acq_rel);
  return restart;
}

namespace {
// A G that would take signal `bit`, the first for_each_g finds; `wants`
// says which: parked interruptibly and not blocking it (takes), or
// waiting for it in sigsuspend/pause (waits_for).
struct pick {
  uint64_t bit;
  bool (*wants)(G* g, uint64_t bit);
  G* found;
};
bool wanted(G* g, void* ctx) {
  auto* p = static_cast<pick*>(ctx);
  if (!p->wants(g, p->bit)) return true;
  p->found = g;
  return false;
}
bool takes(G* g, uint64_t b) {
  return parked_interruptibly(g) && !(g->sigmask.load(std::memory_order_relaxed) & b);
}
bool waits_for(G* g, uint64_t b) { return g->suspend_accepts.load(std::memory_order_acquire) & b; }
G* find_g(uint64_t b, bool (*wants)(G*, uint64_t)) {
  pick p{b, wants, nullptr};
  for_each_g(wanted, &p);
  return p.found;
}
}  // namespace

// Natively the kernel interrupts a thread blocked in a system call when a
// signal it does not block arrives, preferring the main thread. Parked Gs
// have no system call to interrupt: do it here, after the handler ran.
void signal_handled(int sig, bool restart, bool directed) {
  G* self = getg();
  if (directed) {  // signal_thread interrupted self's wait, if it had one
    if (self) self->intr_restart = restart;
    return;
  }
  G* target = nullptr;
  G* mg = main_g;
  if (mg && mg != self && takes(mg, bit(sig)))
    target = mg;
  else if (!self)  // ran on an idle M: nobody running took it
    target = find_g(bit(sig), takes);
  if (!target) return;
  target->intr_restart = restart;
  interrupt(target, INTR_SIGNAL, true);
}

namespace {
std::atomic<int> nsuspended;  // Gs between suspend_begin and suspend_end
}  // namespace

void suspend_begin(G* g, uint64_t accepts) {
  nsuspended.fetch_add(1, std::memory_order_seq_cst);
  g->suspend_accepts.store(accepts, std::memory_order_seq_cst);
}

void suspend_end(G* g) {
  g->suspend_accepts.store(0, std::memory_order_seq_cst);
  nsuspended.fetch_sub(1, std::memory_order_relaxed);
}

// Natively the kernel gives a process signal to a thread that does not
// block it, the main thread first, so a thread in sigsuspend or pause gets
// it. Under libgreen it may reach an idle M instead (the M's mask is the
// idle mask, not the suspended G's): send it on, with its siginfo, to the
// M of a G that waits for it in sigsuspend/pause (main's first). The G's
// INTR_SIGNAL ends the wait even if it had not begun the system call yet.
bool signal_forward(int sig, const siginfo_t* info) {
  if (getg()) return false;  // a G took it: the kernel chose as natively
  if (nsuspended.load(std::memory_order_seq_cst) == 0) return false;  // no scan of every G
  uint64_t b = bit(sig);
  G* mg = main_g;
  G* g = mg && waits_for(mg, b) ? mg : find_g(b, waits_for);
  if (!g) return false;
  M* m = g->m;
  int tid = m ? m->tid : 0;
  if (tid <= 0) return false;
  // Its own siginfo where Linux allows (not for kernel- or kill()-sent
  // ones to another thread: EPERM), else as a tgkill.
  siginfo_t copy = *info;
  if (os::syscall6(SYS_rt_tgsigqueueinfo, self_pid(), tid, sig, (long)&copy) != 0 &&
      os::syscall6(SYS_tgkill, self_pid(), tid, sig) != 0)
    return false;
  g->intr.fetch_or(INTR_SIGNAL, std::memory_order_seq_cst);
  if (!(g->suspend_accepts.load(std::memory_order_seq_cst) & b))  // it has left meanwhile
    g->intr.fetch_and(~INTR_SIGNAL, std::memory_order_relaxed);
  return true;
}

bool signal_arrived(int sig) {
  G* g = getg();
  if (!g) return false;
  g->sigpending.fetch_and(~bit(sig), std::memory_order_acq_rel);
  return g->sigdirected.fetch_and(~bit(sig), std::memory_order_acq_rel) & bit(sig);
}

}  // namespace green
