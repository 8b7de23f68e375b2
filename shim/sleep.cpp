// sleep, usleep, nanosleep, clock_nanosleep: the calling G parks on a timer.
// Clocks other than REALTIME/MONOTONIC/BOOTTIME (CPU-time clocks) are the
// system call, in a syscall section. Each is a cancellation point.
#include <errno.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

namespace {

constexpr long NS = 1000000000L;

bool valid(const struct timespec* ts) { return ts->tv_nsec >= 0 && ts->tv_nsec < NS && ts->tv_sec >= 0; }

int64_t to_ns(const struct timespec* ts) { return (int64_t)ts->tv_sec * NS + ts->tv_nsec; }

int64_t now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return to_ns(&ts);
}

bool sleepable(clockid_t c) { return c == CLOCK_REALTIME || c == CLOCK_MONOTONIC || c == CLOCK_BOOTTIME; }

}  // namespace

GREEN_EXPORT int clock_nanosleep(clockid_t clock, int flags, const struct timespec* req,
                                 struct timespec* rem) {
  green::testcancel();  // a cancellation point, as every sleep
  if (!sleepable(clock)) {
    if (!green::on_green()) {
      green::real::resolve_all();
      return green::real::clock_nanosleep(clock, flags, req, rem);
    }
    int saved = errno;  // clock_nanosleep reports errors by value
    long r = green::shim::cancel_syscall(SYS_clock_nanosleep, clock, flags, (long)req, (long)rem);
    int e = r < 0 ? errno : 0;
    errno = saved;
    return e;
  }
  if (!valid(req)) return EINVAL;
  int64_t deadline = (flags & TIMER_ABSTIME) ? to_ns(req) : now(clock) + to_ns(req);
  while (green::sleep_until(deadline, clock) != 0) {
    if (green::testcancel_intr()) continue;  // cancelled: unwound; stale: sleep on
    // A signal handler ran: never restarted (as Linux, SA_RESTART or not);
    // a relative sleep reports what is left.
    green::interrupted_restart();
    if (rem && !(flags & TIMER_ABSTIME)) {
      int64_t left = deadline - now(clock);
      if (left < 0) left = 0;
      *rem = {(time_t)(left / NS), (long)(left % NS)};
    }
    return EINTR;
  }
  return 0;
}

GREEN_EXPORT int nanosleep(const struct timespec* req, struct timespec* rem) {
  int r = clock_nanosleep(CLOCK_REALTIME, 0, req, rem);
  if (r) {
    errno = r;
    return -1;
  }
  return 0;
}

GREEN_EXPORT int usleep(useconds_t usec) {
  struct timespec ts = {(time_t)(usec / 1000000), (long)(usec % 1000000) * 1000};
  return nanosleep(&ts, nullptr);
}

GREEN_EXPORT unsigned int sleep(unsigned int seconds) {
  struct timespec ts = {(time_t)seconds, 0}, rem = {0, 0};
  if (nanosleep(&ts, &rem) == 0) return 0;
  return (unsigned)rem.tv_sec + (rem.tv_nsec > 0);  // seconds left, rounded up as glibc
}
