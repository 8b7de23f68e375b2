// Preemption: a G that has run longer than the time slice while other Gs
// wait is switched out by a signal, at a safe point only.
//
// sysmon (preempt_check, each tick) remembers every running P's schedtick;
// a P whose tick has not moved for GREEN_TIMESLICE_US while Gs wait (on its
// queue or the global one) gets P.preempt set and its M a thread-directed
// signal (GREEN_PREEMPT_SIGNAL, by default SIGRTMAX-1). The handler runs on
// the interrupted G's own stack and switches it out (gopreempt: to the back
// of the global queue) only if every frame between the interrupted PC and
// the G's entry (mark_user_entry) is application code. Code in the C
// library, the dynamic loader, the unwinder (libgcc_s, libunwind) or
// libgreen itself may hold a lock that another G on this M would then wait
// for forever (glibc's locks record the kernel tid, which all Gs of an M
// share), or be halfway through a switch; there the handler returns and
// sysmon asks again a little later.
//
// Invariants:
//  - The handler acts only for a G in `running` state whose P has `preempt`
//    set (cleared by exchange, so one signal = at most one switch); on g0,
//    a foreign thread, or a G in a syscall section it returns at once.
//  - It is installed with SA_RESTART, so a system call it interrupts
//    restarts where Linux allows; it preserves errno.
//  - The handler's frame stays on the G's stack while the G is switched out;
//    g0 restores the M's signal mask (the handler blocked the signal), and
//    the G's rt_sigreturn later restores the mask it had, on whatever M.
//  - Unsafe code ranges are computed once, at start; libraries loaded later
//    count as application code.
//  - ThreadSanitizer builds (make tsan) never preempt: TSan defers the
//    signals it knows of to points where its runtime is consistent, and
//    ours is installed past it (raw rt_sigaction), so the handler's own
//    instrumented code could run inside TSan's, e.g. while a fiber's state
//    is half built (seen: a crash in __tsan_func_entry). The handler stays
//    installed for pokes (pthread_kill of a running G).
#include <errno.h>
#include <link.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "internal.h"
#include "os.h"
#include "probes.h"
#include "signals.h"

namespace green {

namespace {

constexpr int MAX_RANGES = 32;
struct range {
  uintptr_t lo, hi;
};
range unsafe[MAX_RANGES];
int nunsafe;
range own[4];  // libgreen's own executable segments
int nown;
range unwinder[4];  // libunwind's (its pipe's descriptors are ours: ownfd.cpp)
int nunwinder;
int sig;
int64_t timeslice_ns;
bool enabled;

// libgreen itself: the object holding this function (the unit-test
// binary when core is linked statically: then nothing there is preempted).
bool is_self(uintptr_t base, const ElfW(Phdr) * ph, int n) {
  uintptr_t self = reinterpret_cast<uintptr_t>(&is_self);
  for (int i = 0; i < n; i++)
    if (ph[i].p_type == PT_LOAD && self >= base + ph[i].p_vaddr &&
        self < base + ph[i].p_vaddr + ph[i].p_memsz)
      return true;
  return false;
}

// The object's file name (without its directory) starts with prefix.
bool named(const char* path, const char* prefix) {
  const char* slash = strrchr(path, '/');
  const char* name = slash ? slash + 1 : path;
  return strncmp(name, prefix, strlen(prefix)) == 0;
}

// The objects whose code must not be interrupted by a switch.
bool is_runtime_object(const char* path) {
  static const char* const prefixes[] = {"libc.so", "ld-linux", "libgcc_s.so", "libunwind"};
  for (const char* p : prefixes)
    if (named(path, p)) return true;
  return false;
}

int collect(struct dl_phdr_info* info, size_t, void*) {
  bool self = is_self(info->dlpi_addr, info->dlpi_phdr, info->dlpi_phnum);
  if (!self && !is_runtime_object(info->dlpi_name)) return 0;
  bool unw = !self && named(info->dlpi_name, "libunwind");
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    uintptr_t lo = info->dlpi_addr + ph.p_vaddr;
    if (nunsafe < MAX_RANGES) unsafe[nunsafe++] = range{lo, lo + ph.p_memsz};
    if (self && nown < 4) own[nown++] = range{lo, lo + ph.p_memsz};
    if (unw && nunwinder < 4) unwinder[nunwinder++] = range{lo, lo + ph.p_memsz};
  }
  return 0;
}

bool in(const range* r, int n, uintptr_t pc) {
  for (int i = 0; i < n; i++)
    if (pc >= r[i].lo && pc < r[i].hi) return true;
  return false;
}

bool in_runtime_code(uintptr_t pc) { return in(unsafe, nunsafe, pc); }

// Every frame from the interrupted one up to the G's entry is application
// code. An unwinding failure counts as unsafe: we cannot see what is below.
bool at_safe_point(G* g, ucontext_t* uc) {
  if (in_runtime_code(uc->uc_mcontext.gregs[REG_RIP])) return false;
  if (g->entry_sp == 0) return false;
  unw_cursor_t c;
  if (unw_init_local2(&c, reinterpret_cast<unw_context_t*>(uc), UNW_INIT_SIGNAL_FRAME) < 0)
    return false;
  for (int depth = 0; depth < 512; depth++) {
    if (unw_step(&c) <= 0) return false;
    unw_word_t ip, sp;
    unw_get_reg(&c, UNW_REG_SP, &sp);
    if (sp >= g->entry_sp) return true;  // the trampoline that called the app
    unw_get_reg(&c, UNW_REG_IP, &ip);
    if (in_runtime_code(ip - 1)) return false;  // ip - 1: inside the call
  }
  return false;
}

void on_preempt(int, siginfo_t*, void* ucv) {
  G* g = getg();
  if (!g) return;
  // Also a poke (signal_thread, sysmon): signals pending for this G run
  // here, unless it was interrupted in libgreen's own code (a lock of ours
  // may be held): then at its next switch or the next poke.
  auto* ucx = static_cast<ucontext_t*>(ucv);
  if (g->m && g->sigpending.load(std::memory_order_relaxed)) {
    if (in_libgreen(ucx->uc_mcontext.gregs[REG_RIP]))
      signals_want_poke();
    else
      deliver_pending_fast(g);
  }
  if (g->status.load(std::memory_order_relaxed) != gstatus::running) return;
  M* m = g->m;
  P* p = m ? m->p : nullptr;
  if (!p || !p->preempt.exchange(false, std::memory_order_acq_rel)) return;
  int saved_errno = errno;
  auto* uc = static_cast<ucontext_t*>(ucv);
  // libunwind may take a pthread mutex (ours): it must block this M, not
  // switch the G out with the handler's signal mask in force.
  g->nopark++;
  bool safe = at_safe_point(g, uc);
  g->nopark--;
  if (!safe) {
    stats.preempt_unsafe.fetch_add(1, std::memory_order_relaxed);
    errno = saved_errno;
    return;
  }
  stats.preempts.fetch_add(1, std::memory_order_relaxed);
  GREEN_PROBE1(preempt, g->id);
  gopreempt(&uc->uc_sigmask);  // returns when the G runs again, maybe on another M
  cancel_async_signal(g, uc);  // still at that safe point: an asynchronous cancel acts here
  errno = saved_errno;
}

// sysmon's view of each P (only sysmon touches it).
struct observed {
  uint32_t tick;
  int64_t since;
};
observed* seen;

// Gs queued, or a timer due: with every P busy only a schedule runs timers,
// so a spinning G would otherwise keep a sleeper from ever waking.
bool others_wait(P* p, int64_t now) {
  return !runq_empty(p) || sched.runq_size.load(std::memory_order_relaxed) > 0 ||
         timers_next() <= now;
}

}  // namespace

bool preempt_safe_point(G* g, void* uc) { return at_safe_point(g, static_cast<ucontext_t*>(uc)); }

bool preempt_init() {
  sig = sched.cfg.preempt_signal ? sched.cfg.preempt_signal : SIG_PREEMPT_DEFAULT;
  timeslice_ns = int64_t(sched.cfg.timeslice_us) * 1000;
  seen = static_cast<observed*>(calloc((size_t)sched.nallp, sizeof(observed)));
  if (!seen) return false;
  nunsafe = nown = nunwinder = 0;
  dl_iterate_phdr(collect, nullptr);
  unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
  // libunwind makes its address-validation pipe on first use: now, before
  // the program runs, rather than in a handler while the program opens
  // files (the shim gives it numbers of libgreen's own, core/ownfd.cpp).
  unw_context_t ctx;
  unw_cursor_t cursor;
  if (unw_getcontext(&ctx) == 0 && unw_init_local(&cursor, &ctx) == 0) unw_step(&cursor);
  if (os::set_signal_handler(sig, on_preempt, SA_RESTART) != 0) {
    sig = 0;
    return false;
  }
#if defined(__SANITIZE_THREAD__)
  enabled = false;
#else
  enabled = sched.cfg.timeslice_us > 0;
#endif
  return true;
}

bool preempt_enabled() { return enabled; }

bool in_libgreen(uintptr_t pc) { return in(own, nown, pc); }

bool called_by_unwinder(const void* ra) {
  return in(unwinder, nunwinder, reinterpret_cast<uintptr_t>(ra));
}

int preempt_signal() { return sig; }

int64_t preempt_check(int64_t now) {
  if (!enabled) return INT64_MAX;
  int64_t next = INT64_MAX;  // no P running: nothing to time
  int pid = 0;
  for (int i = 0; i < sched.nallp; i++) {
    P* p = &sched.allp[i];
    observed& o = seen[i];
    uint32_t tick = p->schedtick.load(std::memory_order_relaxed);
    if (p->status.load(std::memory_order_acquire) != P_RUNNING || tick != o.tick) {
      o = observed{tick, now};
      continue;
    }
    int64_t ran = now - o.since;
    if (ran < timeslice_ns) {
      if (timeslice_ns - ran < next) next = timeslice_ns - ran;
      continue;
    }
    if (!others_wait(p, now)) {  // overran, but alone: look again soon
      if (timeslice_ns / 2 < next) next = timeslice_ns / 2;
      continue;
    }
    int tid = p->mtid.load(std::memory_order_relaxed);
    if (!tid) continue;
    if (!pid) pid = (int)os::syscall6(SYS_getpid);
    p->preempt.store(true, std::memory_order_release);
    stats.preempt_signals.fetch_add(1, std::memory_order_relaxed);
    os::syscall6(SYS_tgkill, pid, tid, sig);
    // At an unsafe point the G keeps running: ask again soon, not a whole
    // slice later.
    o.since = now - timeslice_ns + timeslice_ns / 10;
    if (timeslice_ns / 10 < next) next = timeslice_ns / 10;
  }
  return next;
}

// In a fork child the handler stays installed; sysmon's view starts over.
void preempt_fork(fork_phase ph) {
  if (ph != fork_phase::child || !seen) return;
  memset(seen, 0, sizeof(observed) * (size_t)sched.nallp);
}

}  // namespace green
