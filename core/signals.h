// libgreen's own signals, named in one place.
//
//  - The preemption signal (preempt.cpp): GREEN_PREEMPT_SIGNAL, by default
//    SIG_PREEMPT_DEFAULT (SIGRTMAX-1). sysmon sends it to the M of a G that
//    overran its time slice; signal.cpp also uses it to poke a running G
//    that has a pthread_kill signal to take. Installed with SA_RESTART.
//  - The wake signal (intr.cpp): SIG_WAKE_DEFAULT (SIGRTMAX-2), or, if the
//    process already has a handler for that one (or it is the preemption
//    signal) when libgreen starts, the next free real-time signal below
//    it; wake_signal() says which. Sent to the M of a G that waits in the
//    kernel in syscall_intr when the G is cancelled (the call then returns
//    EINTR; see intr.cpp for why no other call can see it), and to the M
//    of a G running with asynchronous cancellation. Installed with
//    SA_RESTART: it never makes another system call fail.
// Neither may be blocked, waited for or given a handler by the program
// (signal.cpp's never_blocked list keeps them out of every mask).
// glibc reserves 32 (SIGCANCEL) and 33 (SIGSETXID); SIGRTMIN is 34.
#pragma once

namespace green {

constexpr int SIG_PREEMPT_DEFAULT = 63;  // SIGRTMAX - 1
constexpr int SIG_WAKE_DEFAULT = 62;     // SIGRTMAX - 2
int wake_signal();                       // the wake signal in use; 0 before start

}  // namespace green
