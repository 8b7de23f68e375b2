// Runtime counters (GREEN_STATS=1 prints them at exit). Relaxed atomics:
// they are statistics, not synchronisation.
#include "internal.h"

namespace green {

stats_t stats;

namespace {
uint64_t sum_over_ps(std::atomic<uint64_t> P::*counter) {
  uint64_t n = 0;
  for (int i = 0; i < sched.nallp; i++)  // spares included
    n += (sched.allp[i].*counter).load(std::memory_order_relaxed);
  return n;
}
}  // namespace

uint64_t stats_switches() { return sum_over_ps(&P::nswitches); }

uint64_t stats_gs_created() {
  return stats.gs_created.load(std::memory_order_relaxed) + sum_over_ps(&P::ncreated);
}

void stats_print() {
  uint64_t parks = sum_over_ps(&P::nparks), switches = stats_switches();
  diag("libgreen: stats: gs_created=%lu peak_gs=%ld live_gs=%ld ms_created=%lu steals=%lu "
       "parks=%lu switches=%lu wakeups=%lu syscalls=%lu handoffs=%lu spares_lent=%lu preempt_signals=%lu "
       "preempts=%lu preempt_unsafe=%lu procs=%d\n",
       (unsigned long)stats_gs_created(), (long)stats.peak_gs.load(),
       (long)stats.live_gs.load(), (unsigned long)stats.ms_created.load(),
       (unsigned long)stats.steals.load(), (unsigned long)parks,
       (unsigned long)switches, (unsigned long)stats.wakeups.load(), (unsigned long)stats.syscalls.load(),
       (unsigned long)stats.handoffs.load(), (unsigned long)stats.spares_lent.load(),
       (unsigned long)stats.preempt_signals.load(),
       (unsigned long)stats.preempts.load(), (unsigned long)stats.preempt_unsafe.load(), sched.nprocs);
}

}  // namespace green
