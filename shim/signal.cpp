// Signal masks and thread-directed signals per thread (a G): translate
// glibc's sigset_t (its first 64 bits are the kernel's set) into core's
// per-G masks and pending sets. Off a G everything goes to the kernel.
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
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

// The sigwait family: a signal sent to this thread with pthread_kill while
// it was blocked is pending in libgreen, not in the kernel: take it first.
GREEN_EXPORT int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* ts) {
  if (int sig = green::signal_take_pending(kset(set))) {
    if (info) {
      memset(info, 0, sizeof *info);
      info->si_signo = sig;
      info->si_code = SI_TKILL;
      info->si_pid = getpid();
      info->si_uid = getuid();
    }
    return sig;
  }
  // Look the real call up before the section: the first lookup is a guarded
  // static whose waiters park, which must not happen inside a section.
  using fn = int (*)(const sigset_t*, siginfo_t*, const struct timespec*);
  fn real = next<fn>("sigtimedwait");
  section s;
  return real(set, info, ts);
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
