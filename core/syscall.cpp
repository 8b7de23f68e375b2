// Syscall sections (Go's entersyscall/exitsyscall).
//
// syscall_enter detaches the P from the M (P.m = null, M.oldp = P) and marks
// it P_SYSCALL; the M then blocks in the kernel without a P. Either the M
// comes back first and takes its P back with one CAS (P_SYSCALL ->
// P_RUNNING: the common, cheap case), or sysmon saw it blocked and retook
// the P first (P_SYSCALL -> P_IDLE, then handoffp), in which case the M
// takes any idle P, or queues its G on the global run queue and parks.
//
// Invariant: between enter and exit the G runs no scheduler code and owns
// no P, so everything it could do there (nothing but the raw call) is safe
// on an M without a P.
#include <errno.h>

#include "internal.h"

namespace green {

void syscall_enter() {
  G* g = getg_switchable();
  if (!g || !sched.started.load(std::memory_order_relaxed)) return;
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
  sysmon_kick();
}

void syscall_exit() {
  G* g = getg_switchable();
  if (!g || !sched.started.load(std::memory_order_relaxed)) return;
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
