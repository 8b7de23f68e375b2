// The runtime across fork(). POSIX: the child has only the thread that
// called fork, here the forking G on its M. Handlers are registered at
// start(), before any the application registers, so in the child ours run
// first and the application's child handlers already find a runtime.
//
// Invariant: prepare takes the runtime's locks in one fixed order (no
// runtime path takes two of them in another order), so the state the child
// copies is consistent; parent releases them; child rebuilds each module.
#include <pthread.h>

#include "internal.h"

namespace green {

namespace {

void prepare() {
  diag_fork(fork_phase::prepare);
  tls_fork(fork_phase::prepare);
  gpool_fork(fork_phase::prepare);
  stack_fork(fork_phase::prepare);
  timers_fork(fork_phase::prepare);
  netpoll_fork(fork_phase::prepare);
  sched_fork(fork_phase::prepare);
  ownfd_fork(fork_phase::prepare);  // last: netpoll registers under its own lock
}

void parent() {
  ownfd_fork(fork_phase::parent);
  sched_fork(fork_phase::parent);
  netpoll_fork(fork_phase::parent);
  timers_fork(fork_phase::parent);
  stack_fork(fork_phase::parent);
  gpool_fork(fork_phase::parent);
  tls_fork(fork_phase::parent);
  diag_fork(fork_phase::parent);
}

void child() {
  ownfd_fork(fork_phase::child);
  procread_fork(fork_phase::child);
  parking_fork(fork_phase::child);
  sysmon_fork(fork_phase::child);
  preempt_fork(fork_phase::child);
  spare_fork(fork_phase::child);
  signals_fork(fork_phase::child);
  sched_fork(fork_phase::child);
  netpoll_fork(fork_phase::child);
  timers_fork(fork_phase::child);
  stack_fork(fork_phase::child);
  gpool_fork(fork_phase::child);
  tls_fork(fork_phase::child);
  diag_fork(fork_phase::child);  // last: may start its thread again
}

}  // namespace

void fork_handlers_install() { pthread_atfork(prepare, parent, child); }

}  // namespace green
