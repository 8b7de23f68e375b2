// Signal masks and thread-directed signals per thread (a G): translate
// glibc's sigset_t (its first 64 bits are the kernel's set) into core's
// per-G masks and pending sets. Off a G everything goes to the kernel.
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

namespace {

uint64_t kset(const sigset_t* s) {
  uint64_t v;
  memcpy(&v, s, sizeof v);
  return v;
}

void to_sigset(uint64_t v, sigset_t* s) {
  sigemptyset(s);
  memcpy(s, &v, sizeof v);
}

int change_mask(int how, const sigset_t* set, sigset_t* old) {
  uint64_t in = set ? kset(set) : 0, out = 0;
  int err = green::sigmask_change(how, set ? &in : nullptr, &out);
  if (!err && old) to_sigset(out, old);
  return err;
}

template <typename F>
F next(const char* name) {
  static F f = reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
  return f;
}

struct section {
  section() { green::syscall_enter(); }
  ~section() { green::syscall_exit(); }
};

}  // namespace

GREEN_EXPORT int pthread_sigmask(int how, const sigset_t* set, sigset_t* old) {
  return change_mask(how, set, old);
}

GREEN_EXPORT int sigprocmask(int how, const sigset_t* set, sigset_t* old) {
  int err = change_mask(how, set, old);
  if (err) errno = err;
  return err ? -1 : 0;
}

GREEN_EXPORT int pthread_kill(pthread_t t, int sig) {
  if (!green::is_green(t)) return green::real::pthread_kill(t, sig);
  return green::signal_thread(t, sig);
}

GREEN_EXPORT int raise(int sig) {
  int err = green::on_green() ? green::signal_thread(pthread_self(), sig)
                              : green::real::pthread_kill(pthread_self(), sig);
  if (err) errno = err;
  return err ? -1 : 0;
}

GREEN_EXPORT int sigpending(sigset_t* set) {
  uint64_t mine = green::signals_pending_here();
  if (next<int (*)(sigset_t*)>("sigpending")(set) < 0) return -1;
  to_sigset(kset(set) | mine, set);
  return 0;
}

namespace {

// A signal sent to this thread with pthread_kill while it blocked it is
// pending in libgreen, not in the kernel: it is taken first.
int take_directed(uint64_t want, siginfo_t* info) {
  int sig = green::signal_take_pending(want);
  if (sig && info) {
    memset(info, 0, sizeof *info);
    info->si_signo = sig;
    info->si_code = SI_TKILL;
    info->si_pid = getpid();
    info->si_uid = getuid();
  }
  return sig;
}

void from_signalfd(const struct signalfd_siginfo& s, siginfo_t* info) {
  if (!info) return;
  memset(info, 0, sizeof *info);
  info->si_signo = (int)s.ssi_signo;
  info->si_errno = s.ssi_errno;
  info->si_code = s.ssi_code;
  info->si_pid = (pid_t)s.ssi_pid;
  info->si_uid = (uid_t)s.ssi_uid;
  info->si_status = s.ssi_status;
  info->si_value.sival_ptr = reinterpret_cast<void*>(s.ssi_ptr);
}

int64_t mono_ns() {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

}  // namespace

// The sigwait family. On a G the wait parks instead of holding an OS
// thread: signals for the process that every thread blocks stay pending in
// the kernel, where a signalfd for the set sees them (readable, so the
// netpoller wakes the waiter); signals sent to this thread arrive through
// libgreen (signal_thread wakes a G whose sigwait set has them). EINTR
// when a handler for another signal ran, as the kernel's call.
GREEN_EXPORT int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* ts) {
  green::testcancel();  // the family's cancellation point, as glibc: even with a signal pending
  uint64_t want = kset(set);
  if (int sig = take_directed(want, info)) return sig;
  // Look the real calls up before any section: a first lookup is a guarded
  // static whose waiters park, which must not happen inside a section.
  using wait_fn = int (*)(const sigset_t*, siginfo_t*, const struct timespec*);
  using sfd_fn = int (*)(int, const sigset_t*, int);
  using read_fn = ssize_t (*)(int, void*, size_t);
  using close_fn = int (*)(int);
  wait_fn real = next<wait_fn>("sigtimedwait");
  sfd_fn real_signalfd = next<sfd_fn>("signalfd");
  read_fn real_read = next<read_fn>("read");
  close_fn real_close = next<close_fn>("close");
  if (!green::on_green()) {
    section s;
    return real(set, info, ts);
  }
  static const struct timespec zero = {0, 0};
  int r = real(set, info, &zero);  // already pending for the process (or this M)
  if (r > 0 || errno != EAGAIN || (ts && ts->tv_sec == 0 && ts->tv_nsec == 0)) return r;
  if (ts && (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000)) {
    errno = EINVAL;
    return -1;
  }
  int fd = real_signalfd(-1, set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) {
    section s;
    return real(set, info, ts);
  }
  int64_t deadline = ts ? mono_ns() + (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec : 0;
  green::sigwait_mark(want);
  int result = -1, err = 0;
  for (;;) {
    if ((result = take_directed(want, info))) break;
    uint32_t seq = green::netpoll_seq(fd, green::POLL_READ);
    struct signalfd_siginfo si;
    if (real_read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
      from_signalfd(si, info);
      result = (int)si.ssi_signo;
      break;
    }
    int w = green::netpoll_wait(fd, green::POLL_READ, deadline, seq);
    if (w == 0) continue;
    if (w == EINTR) {  // a directed signal of the set, or a handler ran
      green::interrupted_restart();
      if ((result = take_directed(want, info))) break;
      result = -1, err = EINTR;
      break;
    }
    result = -1, err = w == ETIMEDOUT ? EAGAIN : w;
    break;
  }
  green::sigwait_mark(0);
  green::netpoll_close(fd);
  real_close(fd);
  // Cancelled while it waited: acted on now that the signalfd is gone
  // (unwinds); a stale request: wait again.
  if (result < 0 && err == EINTR && green::testcancel_intr()) return sigtimedwait(set, info, ts);
  if (result < 0) errno = err;
  return result;
}

GREEN_EXPORT int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  return sigtimedwait(set, info, nullptr);
}

GREEN_EXPORT int sigwait(const sigset_t* set, int* sig) {
  int r;
  do r = sigtimedwait(set, nullptr, nullptr);
  while (r < 0 && errno == EINTR);  // sigwait never fails with EINTR
  if (r < 0) return errno;
  *sig = r;
  return 0;
}
