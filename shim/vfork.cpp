// vfork(): a fork under libgreen.
//
// A vfork child runs in the parent's memory until it execs or exits, on
// the calling thread's stack. What such children do before exec (close
// and dup2 descriptors, reset signal handlers and masks) would go through
// libgreen's bookkeeping of the parent, which lives in that shared memory:
// a close() would retire the parent's descriptor under its blocked
// threads, a signal() would replace the parent's handler. So vfork() is
// fork(): the child gets its own copy of that bookkeeping. What differs
// from a native vfork: the parent is not suspended until the child execs
// (POSIX lets the child do nothing but exec or _exit anyway), a child that
// stores into memory does not change the parent's, the pthread_atfork
// handlers run, and copying the page tables costs what fork costs.
// posix_spawn, system and popen never come here (glibc's own clone). A
// wrapper could not call the real vfork anyway: the child would return
// through the wrapper's frame and leave it clobbered for the parent.
#include <unistd.h>

#include "shim.h"

GREEN_EXPORT pid_t vfork(void) { return fork(); }
