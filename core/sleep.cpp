// Sleeping without an OS thread: the G parks on a private address (a local
// of its own frame, which nobody else can unpark) with a timer for the
// deadline. Never returns early, except with EINTR when interrupted (a
// signal handler ran for it, or a cancellation): the deadline is
// re-checked on every other wake.
#include <errno.h>

#include "internal.h"
#include "os.h"

namespace green {

int sleep_until(int64_t deadline_ns, clockid_t clock) {
  if (clock == CLOCK_BOOTTIME) {  // park knows MONOTONIC and REALTIME
    deadline_ns += os::now_ns(CLOCK_MONOTONIC) - os::now_ns(CLOCK_BOOTTIME);
    clock = CLOCK_MONOTONIC;
  }
  char token;
  while (os::now_ns(clock) < deadline_ns)
    if (park(&token, nullptr, nullptr, deadline_ns, clock, {wait_kind::sleep, nullptr}, true) ==
        park_result::interrupted)
      return EINTR;
  return 0;
}

}  // namespace green
