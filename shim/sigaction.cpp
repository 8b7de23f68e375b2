// sigaction and the signal() family. The application's handlers are kept
// here and the kernel is given one wrapper for every caught signal, so that
// libgreen learns of each delivery: after the application's handler ran,
// core decides whether a thread parked in a blocking call must see EINTR
// (signal_handled), which the kernel can no longer decide for a G that
// waits without an OS thread of its own. Flags, sa_mask, SA_ONSTACK,
// SA_RESTART and SA_NODEFER go to the kernel unchanged; SA_RESETHAND is
// mirrored in the table. SIG_DFL and SIG_IGN are passed straight through.
// libgreen's own signals (GREEN_PREEMPT_SIGNAL, the wake signal: signals.h)
// stay libgreen's: a program that asks for one is told once on stderr and
// its handler is not run.
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <atomic>

#include "shim.h"

namespace {

using sigaction_fn = int (*)(int, const struct sigaction*, struct sigaction*);

sigaction_fn real_sigaction() {
  static sigaction_fn f = reinterpret_cast<sigaction_fn>(dlsym(RTLD_NEXT, "sigaction"));
  return f;
}

struct app_action {
  std::atomic<bool> known{false};  // false: whatever the kernel has (inherited)
  std::atomic<void*> handler{nullptr};
  std::atomic<int> flags{0};
  sigset_t mask;
};
app_action table[NSIG];
std::atomic_flag table_lock = ATOMIC_FLAG_INIT;

void wrapper(int sig, siginfo_t* info, void* uc) {
  if (green::signal_forward(sig, info) || green::signal_must_defer(sig, info, uc)) return;
  app_action& a = table[sig];
  void* h = a.handler.load(std::memory_order_acquire);
  int flags = a.flags.load(std::memory_order_relaxed);
  if (flags & SA_RESETHAND) a.handler.store((void*)SIG_DFL, std::memory_order_release);
  bool directed = green::signal_arrived(sig);
  if (h == (void*)SIG_IGN || h == (void*)SIG_DFL) return;  // changed meanwhile
  if (flags & SA_SIGINFO)
    reinterpret_cast<void (*)(int, siginfo_t*, void*)>(h)(sig, info, uc);
  else
    reinterpret_cast<void (*)(int)>(h)(sig);
  green::signal_handled(sig, flags & SA_RESTART, directed);
}

// libgreen's own signals: preemption (and pokes), and the wake signal.
bool reserved(int sig) { return sig <= 64 && (green::signals_reserved() >> (sig - 1) & 1); }

}  // namespace

GREEN_EXPORT int sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  if (sig <= 0 || sig >= NSIG || sig == 32 || sig == 33 ||
      (act && (sig == SIGKILL || sig == SIGSTOP))) {
    errno = EINVAL;
    return -1;
  }
  app_action& a = table[sig];
  while (table_lock.test_and_set(std::memory_order_acquire)) {
  }
  struct sigaction prev;
  int r = 0;
  if (a.known.load(std::memory_order_relaxed)) {
    memset(&prev, 0, sizeof prev);
    prev.sa_sigaction = reinterpret_cast<void (*)(int, siginfo_t*, void*)>(a.handler.load());
    prev.sa_flags = a.flags.load();
    prev.sa_mask = a.mask;
  } else if (!reserved(sig)) {
    r = real_sigaction()(sig, nullptr, &prev);
    if (r == 0 && green::default_fault_handler(reinterpret_cast<void*>(prev.sa_sigaction))) {
      memset(&prev, 0, sizeof prev);  // libgreen's overflow reporter: SIG_DFL to the program
    }
  } else {
    memset(&prev, 0, sizeof prev);  // as if SIG_DFL
  }
  if (r == 0 && act) {
    bool caught = act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN;
    if (reserved(sig)) {
      static const char msg[] =
          "libgreen: the program installs a handler for a signal libgreen uses "
          "(GREEN_PREEMPT_SIGNAL, or the wake signal, SIGRTMAX-2 or the next free one below); "
          "choose another preemption signal for libgreen\n";
      static std::atomic<bool> said{false};
      if (!said.exchange(true)) (void)!write(2, msg, sizeof msg - 1);
    } else if (caught) {
      struct sigaction k = *act;
      k.sa_sigaction = wrapper;
      k.sa_flags = act->sa_flags | SA_SIGINFO;
      a.handler.store(reinterpret_cast<void*>(act->sa_sigaction), std::memory_order_release);
      a.flags.store(act->sa_flags, std::memory_order_relaxed);
      a.mask = act->sa_mask;
      r = real_sigaction()(sig, &k, nullptr);
    } else {
      a.handler.store(reinterpret_cast<void*>(act->sa_handler), std::memory_order_release);
      a.flags.store(act->sa_flags, std::memory_order_relaxed);
      a.mask = act->sa_mask;
      r = real_sigaction()(sig, act, nullptr);
    }
    if (r == 0) a.known.store(true, std::memory_order_release);
    if (r == 0 && !reserved(sig)) green::app_signal_handler(sig, caught);  // the kernel sees our wrapper
  }
  table_lock.clear(std::memory_order_release);
  if (r == 0 && old) *old = prev;
  return r;
}

GREEN_EXPORT int __sigaction(int sig, const struct sigaction* act, struct sigaction* old) {
  return sigaction(sig, act, old);
}

namespace {
sighandler_t install(int sig, sighandler_t h, int flags) {
  struct sigaction act, old;
  memset(&act, 0, sizeof act);
  act.sa_handler = h;
  act.sa_flags = flags;
  sigemptyset(&act.sa_mask);
  if (sigaction(sig, &act, &old) < 0) return SIG_ERR;
  return old.sa_handler;
}
}  // namespace

// glibc's signal() has BSD semantics (handler stays, calls restart);
// sysv_signal resets the handler and does not block the signal.
GREEN_EXPORT sighandler_t signal(int sig, sighandler_t h) { return install(sig, h, SA_RESTART); }
GREEN_EXPORT sighandler_t bsd_signal(int sig, sighandler_t h) { return install(sig, h, SA_RESTART); }
GREEN_EXPORT sighandler_t sysv_signal(int sig, sighandler_t h) {
  return install(sig, h, SA_RESETHAND | SA_NODEFER);
}

GREEN_EXPORT int siginterrupt(int sig, int interrupt) {
  struct sigaction act;
  if (sigaction(sig, nullptr, &act) < 0) return -1;
  if (interrupt)
    act.sa_flags &= ~SA_RESTART;
  else
    act.sa_flags |= SA_RESTART;
  return sigaction(sig, &act, nullptr);
}
