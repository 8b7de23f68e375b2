// sysmon: one OS thread without a P (Go's sysmon), started when a P first
// runs. Besides retaking Ps from syscalls it drives preemption
// (preempt_check, preempt.cpp) and lends spare Ps to Ps whose M is stuck
// in the kernel outside a syscall section (spare_check, spare.cpp).
//
// Each tick (20 us, backing off to 10 ms while there is nothing to do; no
// timer slack, so a tick is 20 us, not the kernel's default 70) it
// looks at every P in P_SYSCALL. A P seen in the same syscall (same
// syscalltick) on two ticks is retaken if it has work waiting, if no other
// P is idle or looking for work, or if the syscall has lasted 10 ms; then
// handoffp gives it to another M (woken or created). Unless the kernel
// shows the M runnable (state R: working in the kernel, or waiting for a
// CPU, as on an oversubscribed machine): another M would find no CPU to
// run on either, so that P is looked at again after a gap that doubles from
// MIN_RECHECK_NS (an M on its way into a sleep) to RECHECK_NS, and retaken
// only once the M sleeps or the call has lasted 10 ms. When no P has been in
// a syscall for a while and no P runs, sysmon sleeps until the next
// syscall_enter or acquirep kicks it; while a P runs it ticks at least once
// per time slice.
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>

#include <new>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

constexpr int64_t MIN_DELAY_NS = 20 * 1000;
constexpr int64_t MAX_DELAY_NS = 10 * 1000 * 1000;
constexpr int64_t FORCE_RETAKE_NS = 10 * 1000 * 1000;
constexpr int64_t MIN_RECHECK_NS = 40 * 1000;
constexpr int64_t RECHECK_NS = 1000 * 1000;
constexpr int IDLE_TICKS_BEFORE_BACKOFF = 50;

std::atomic<bool> started_sysmon{false};
std::atomic<bool> sleeping{false};
note wake;

struct observed {
  uint32_t tick;
  int64_t since;
  int64_t recheck;  // M last seen runnable: look again at this time
  int64_t gap;      // ... which was this long after the look before
  bool valid;
};
observed* seen;

bool any_in_syscall() {
  for (int i = 0; i < sched.nallp; i++)
    if (sched.allp[i].status.load(std::memory_order_seq_cst) == P_SYSCALL) return true;
  return false;
}

// p's M, in a syscall, is runnable rather than asleep: it does not need its
// P handed on yet. One /proc read per gap; the gap doubles up to
// RECHECK_NS while the M stays runnable.
bool m_runnable(P* p, observed& o, int64_t now) {
  if (now < o.recheck) return true;
  int tid = p->mtid.load(std::memory_order_relaxed);
  if (!tid || task_state(tid) != 'R') return false;
  o.gap = o.gap ? (o.gap * 2 > RECHECK_NS ? RECHECK_NS : o.gap * 2) : MIN_RECHECK_NS;
  o.recheck = now + o.gap;
  return true;
}

int retake(int64_t now) {
  int n = 0;
  for (int i = 0; i < sched.nallp; i++) {
    P* p = &sched.allp[i];
    observed& o = seen[i];
    if (p->status.load(std::memory_order_acquire) != P_SYSCALL) {
      o.valid = false;
      continue;
    }
    uint32_t tick = p->syscalltick.load(std::memory_order_relaxed);
    if (!o.valid || o.tick != tick) {
      o = observed{tick, now, 0, 0, true};
      continue;
    }
    bool work = !runq_empty(p) || sched.runq_size.load(std::memory_order_relaxed) > 0;
    bool nobody_else = sched.npidle.load(std::memory_order_relaxed) == 0 &&
                       sched.nmspinning.load(std::memory_order_relaxed) == 0;
    bool forced = now - o.since >= FORCE_RETAKE_NS;
    if (!forced && ((!work && !nobody_else) || m_runnable(p, o, now))) continue;
    if (!retake_syscall_p(p)) continue;
    o.valid = false;
    n++;
  }
  return n;
}

bool any_running() {
  for (int i = 0; i < sched.nallp; i++)
    if (sched.allp[i].status.load(std::memory_order_seq_cst) == P_RUNNING) return true;
  return false;
}

// Anything to watch: a P in a syscall, or a running P (its time slice, or
// its M stuck in the kernel: spare.cpp), or a schedtrace to print.
bool watching() { return any_in_syscall() || any_running() || sched.cfg.schedtrace_ms > 0; }

// GREEN_DEBUG=schedtrace=MS, as Go's: one line per interval.
void schedtrace(int64_t now) {
  static int64_t start, next;
  int64_t every = int64_t(sched.cfg.schedtrace_ms) * 1000000;
  if (!start) start = next = now;
  if (now < next) return;
  next = now + every;
  char qs[256];
  int len = 0;
  for (int i = 0; i < sched.nallp && len < (int)sizeof qs - 16; i++) {
    P* p = &sched.allp[i];
    if (p->status.load(std::memory_order_relaxed) == P_SPARE) continue;
    uint32_t n = p->q.tail.load(std::memory_order_relaxed) - p->q.head.load(std::memory_order_relaxed);
    len += snprintf(qs + len, sizeof qs - len, "%s%u", len ? " " : "", n);
  }
  diag("libgreen: schedtrace %ldms: procs=%d active=%d idleprocs=%d threads=%d spinning=%d "
       "idlethreads=%d runqueue=%d gs=%ld [%s]\n",
       (long)((now - start) / 1000000), sched.nprocs, sched.nactive.load(),
       sched.npidle.load(), sched.mcount.load(), sched.nmspinning.load(), sched.nmidle,
       sched.runq_size.load(), (long)stats.live_gs.load(), qs);
}

void* sysmon_main(void*) {
  block_all_signals();  // never the thread the kernel picks for a process signal
  // Ticks of 20 us mean nothing with the kernel's default 50 us timer slack:
  // a blocked P would be handed on ~200 us after its syscall began, not ~30.
  os::syscall6(SYS_prctl, PR_SET_TIMERSLACK, 1);
  int64_t delay = MIN_DELAY_NS;
  int idle = 0;
  for (;;) {
    wake.clear();
    wake.sleep(nanotime() + delay);
    int64_t now = nanotime();
    int64_t preempt_in = preempt_check(now);
    spare_check(now);
    signals_redeliver();
    netpoll_sysmon(now);
    cpuload_sample(now);
    if (sched.cfg.schedtrace_ms > 0) {
      schedtrace(now);
      if (delay > int64_t(sched.cfg.schedtrace_ms) * 1000000)
        delay = int64_t(sched.cfg.schedtrace_ms) * 1000000;
    }
    if (retake(now) > 0 || any_in_syscall()) {
      idle = 0;
      delay = MIN_DELAY_NS;
      continue;
    }
    if (++idle >= IDLE_TICKS_BEFORE_BACKOFF)
      delay = delay * 2 > MAX_DELAY_NS ? MAX_DELAY_NS : delay * 2;
    if (preempt_in < delay) delay = preempt_in < MIN_DELAY_NS ? MIN_DELAY_NS : preempt_in;
    if (idle < IDLE_TICKS_BEFORE_BACKOFF || delay < MAX_DELAY_NS || watching()) continue;
    // Nothing to watch for a while: sleep until a syscall section starts
    // or a P starts running. sleeping is published before the last look,
    // and syscall_enter / acquirep store the P's status before reading
    // sleeping (seq_cst both).
    wake.clear();
    sleeping.store(true, std::memory_order_seq_cst);
    if (!watching()) wake.sleep(0);
    sleeping.store(false, std::memory_order_seq_cst);
    idle = 0;
    delay = MIN_DELAY_NS;
  }
}

void start_sysmon() {
  seen = static_cast<observed*>(calloc((size_t)sched.nallp, sizeof(observed)));
  GREEN_CHECK(seen, "out of memory for sysmon");
  int err = start_os_thread(sysmon_main, nullptr);
  if (err) diag("libgreen: cannot start sysmon (error %d): blocked system calls will hold their P\n", err);
}

}  // namespace

// sysmon's thread does not exist in a child: it is started again by the
// child's first syscall section.
void sysmon_fork(fork_phase ph) {
  if (ph != fork_phase::child) return;
  started_sysmon.store(false, std::memory_order_relaxed);
  sleeping.store(false, std::memory_order_relaxed);
  new (&wake) note();
  free(seen);
  seen = nullptr;
}

void sysmon_kick() {
  if (__builtin_expect(!started_sysmon.load(std::memory_order_relaxed), 0)) {
    bool expected = false;
    if (started_sysmon.compare_exchange_strong(expected, true)) start_sysmon();
    return;
  }
  if (sleeping.load(std::memory_order_seq_cst)) wake.wakeup();
}

}  // namespace green
