// Spare Ps: progress while an M is blocked in the kernel outside any
// syscall section.
//
// glibc calls its own internals directly (stdio's read, an internal lock's
// futex wait): such a call blocks the M with its P, and with it every G
// queued there, possibly for ever (GREEN_PROCS=1 and a thread in fgets on a
// pipe that another thread would write). The M cannot be told to give its
// P up: it runs glibc code, not ours. So sysmon (spare_check, each tick)
// lends a spare P instead: a P that has run the same G for STUCK_NS while
// Gs wait, whose M the kernel shows blocked in a system call with a user
// PC outside libgreen (/proc/self/task/TID/syscall and stat), gets one of
// SPARE_PS spares, made idle and handed to an M like a P retaken from a
// syscall. The spare's M runs the global queue and steals the stuck P's.
// When the stuck P moves again (its schedtick changes or it stops running)
// the spare is taken back: from the idle list directly, or by its M at its
// next schedule (P.retire -> spare_return).
//
// Invariants: only sysmon lends and starts retiring spares; P.helper is
// sysmon's; a spare is P_SPARE only when no M holds it and it is in no
// list; sched.nactive counts the Ps that are not P_SPARE.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

constexpr int64_t STUCK_NS = 20 * 1000 * 1000;

struct watch {
  uint32_t tick;
  int64_t since;
};
watch* seen;

// tid sleeps in a system call that libgreen did not make.
bool blocked_outside(int tid) {
  char state = task_state(tid);
  if (state != 'S' && state != 'D') return false;
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
  if (proc_read(path, buf, sizeof buf) <= 0) return false;
  // "NR a1 a2 a3 a4 a5 a6 SP PC" while in a system call; "running" or
  // "-1 SP PC" otherwise.
  char* end;
  long nr = strtol(buf, &end, 10);
  if (end == buf || nr < 0) return false;
  const char* last = strrchr(buf, ' ');
  if (!last) return false;
  uintptr_t pc = strtoull(last + 1, nullptr, 16);
  return !in_libgreen(pc);
}

// Gs queued, or timers due that only a P's M would run.
bool work_waits(P* p, int64_t now) {
  return !runq_empty(p) || sched.runq_size.load(std::memory_order_relaxed) > 0 ||
         timers_next() <= now;
}

P* free_spare() {
  for (int i = sched.nprocs; i < sched.nallp; i++) {
    P* s = &sched.allp[i];
    if (s->status.load(std::memory_order_acquire) == P_SPARE && !s->retire.load()) return s;
  }
  return nullptr;
}

void lend(P* stuck) {
  P* s = free_spare();
  if (!s) return;  // all lent: the remaining stuck Ps wait
  stuck->helper = s;
  sched.nactive.fetch_add(1, std::memory_order_relaxed);
  s->status.store(P_IDLE, std::memory_order_release);  // in no list: handoffp decides
  stats.spares_lent.fetch_add(1, std::memory_order_relaxed);
  handoffp(s);
}

void take_back(P* stuck) {
  P* s = stuck->helper;
  stuck->helper = nullptr;
  s->retire.store(true, std::memory_order_release);
  lock_guard l(sched.mu);
  for (P** pp = &sched.pidle; *pp; pp = &(*pp)->link) {  // idle: take it out now
    if (*pp != s) continue;
    *pp = s->link;
    sched.npidle.fetch_sub(1, std::memory_order_relaxed);
    s->retire.store(false, std::memory_order_relaxed);
    s->status.store(P_SPARE, std::memory_order_release);
    sched.nactive.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  // Held by an M (running, or in a syscall): it gives it back at its next
  // schedule (find_runnable -> spare_return).
}

}  // namespace

void spare_check(int64_t now) {
  if (!seen) {
    seen = static_cast<watch*>(calloc((size_t)sched.nallp, sizeof(watch)));
    if (!seen) return;
  }
  for (int i = 0; i < sched.nallp; i++) {
    P* p = &sched.allp[i];
    watch& w = seen[i];
    uint32_t tick = p->schedtick.load(std::memory_order_relaxed);
    if (p->status.load(std::memory_order_acquire) != P_RUNNING || tick != w.tick) {
      w = watch{tick, now};
      if (p->helper) take_back(p);
      continue;
    }
    if (p->helper || now - w.since < STUCK_NS || !work_waits(p, now)) continue;
    int tid = p->mtid.load(std::memory_order_relaxed);
    if (tid && blocked_outside(tid)) lend(p);
  }
}

// In a fork child the spares are reset by sched_fork; sysmon's view too.
void spare_fork(fork_phase ph) {
  if (ph != fork_phase::child || !seen) return;
  memset(seen, 0, sizeof(watch) * (size_t)sched.nallp);
}

}  // namespace green
