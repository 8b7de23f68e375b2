// Runtime counters (GREEN_STATS=1 prints them at exit). Relaxed atomics:
// they are statistics, not synchronisation.
#include "internal.h"

namespace green {

stats_t stats;

void stats_print() {
  diag("libgreen: stats: gs_created=%lu peak_gs=%ld live_gs=%ld ms_created=%lu steals=%lu "
       "parks=%lu switches=%lu wakeups=%lu syscalls=%lu handoffs=%lu spares_lent=%lu preempt_signals=%lu "
       "preempts=%lu preempt_unsafe=%lu procs=%d\n",
       (unsigned long)stats.gs_created.load(), (long)stats.peak_gs.load(),
       (long)stats.live_gs.load(), (unsigned long)stats.ms_created.load(),
       (unsigned long)stats.steals.load(), (unsigned long)stats.parks.load(),
       (unsigned long)stats.switches.load(), (unsigned long)stats.wakeups.load(), (unsigned long)stats.syscalls.load(),
       (unsigned long)stats.handoffs.load(), (unsigned long)stats.spares_lent.load(),
       (unsigned long)stats.preempt_signals.load(),
       (unsigned long)stats.preempts.load(), (unsigned long)stats.preempt_unsafe.load(), sched.nprocs);
}

}  // namespace green
