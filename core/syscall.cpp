// Syscall sections (Go's entersyscall/exitsyscall).
//
// syscall_enter detaches the P from the M (P.m = null, M.oldp = P) and marks
// it P_SYSCALL; the M then blocks in the kernel without a P. Either the M
// comes back first and takes its P back with one CAS (P_SYSCALL ->
// P_RUNNING: the common, cheap case), or sysmon saw it blocked and retook
// the P first (P_SYSCALL -> P_IDLE, then handoffp), in which case the M
// takes any idle P, or queues its G on the global run queue and parks.
//
// A section announced as blocking (syscall_expect_block) hands its P on
// at once if the P has work (P_SYSCALL -> P_IDLE, handoffp), as sysmon
// would after two ticks; the exit is the same.
//
// Invariant: between enter and exit the G runs no scheduler code and owns
// no P. A signal handler may run there and block again: the G counts as
// nopark while inside (blocking calls block the M, nothing switches) and
// sections nest (only the outermost gives up and takes back the P).
#include <errno.h>

#include "internal.h"
#include "probes.h"

namespace green {

void syscall_expect_block() {
  if (G* g = getg()) g->section_block = true;
}

void syscall_enter() {
  G* g = getg();
  if (!g || !sched.started.load(std::memory_order_relaxed)) return;
  bool block = g->section_block;
  g->section_block = false;
  // Nested (a signal handler that blocks while its G is in a section), or
  // in a handler of ours (nopark): the M just blocks, P or no P.
  if (g->section_depth++ > 0 || g->nopark > 0) return;
  g->section_real = true;
  g->nopark++;  // inside: every blocking call blocks the M, nothing switches
  M* m = g->m;
  P* p = m->p;
  GREEN_ASSERT(p && p->m == m);
  stats.syscalls.fetch_add(1, std::memory_order_relaxed);
  g->status.store(gstatus::syscall, std::memory_order_relaxed);
  p->syscall_gid = g->id;
  p->syscalltick.fetch_add(1, std::memory_order_relaxed);
  m->oldp = p;
  m->p = nullptr;
  p->m = nullptr;
  p->status.store(P_SYSCALL, std::memory_order_seq_cst);
  if (block && (!runq_empty(p) || sched.runq_size.load(std::memory_order_relaxed) > 0) &&
      retake_syscall_p(p))
    return;
  sysmon_kick();
}

bool retake_syscall_p(P* p) {
  uint32_t s = P_SYSCALL;
  if (!p->status.compare_exchange_strong(s, P_IDLE, std::memory_order_acq_rel)) return false;
  stats.handoffs.fetch_add(1, std::memory_order_relaxed);
  GREEN_PROBE2(handoff, p->id, p->syscall_gid);
  handoffp(p);
  return true;
}

void syscall_exit() {
  G* g = getg();
  if (!g || !sched.started.load(std::memory_order_relaxed) || g->section_depth == 0) return;
  if (--g->section_depth > 0 || !g->section_real) return;
  g->section_real = false;
  g->nopark--;
  int saved_errno = errno;
  M* m = g->m;
  P* p = m->oldp;
  m->oldp = nullptr;
  uint32_t s = P_SYSCALL;
  if (p->status.compare_exchange_strong(s, P_RUNNING, std::memory_order_acq_rel)) {
    m->p = p;
    p->m = m;
  } else {
    P* idle;
    {
      lock_guard l(sched.mu);
      idle = pidleget_locked();
    }
    if (idle)
      acquirep(m, idle);
    else
      syscall_park_current();  // resumes on some M that has a P
  }
  g->status.store(gstatus::running, std::memory_order_relaxed);
  errno = saved_errno;
}

}  // namespace green
