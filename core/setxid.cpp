// set*id() across Ms: glibc's SIGSETXID handler run on the M's own TCB.
//
// Linux keeps credentials per kernel thread, so glibc's setuid() and
// friends (nptl_setxid) signal every thread in its lists with SIGSETXID
// and repeat until none is left marked; the handler makes the call on its
// thread and clears the mark in THREAD_SELF. An M's mark is in the M's own
// TCB, but while the M runs a G, THREAD_SELF is the G's TCB: the mark would
// stay and set*id() would signal that M for ever. So libgreen wraps the
// handler: it runs glibc's with the thread pointer of the M the signal
// landed on, then puts the G's back.
//
// Invariants:
//  - glibc installs its handler at its first pthread_create (the first
//    OS thread libgreen starts); setxid_wrap runs after each start and
//    wraps once (under wrap_mu: Ms start from several threads). The wrapper never changes which thread makes the call.
//  - G blocks in glibc's thread list are marked exiting (glibcthreads.cpp),
//    so glibc never signals for them; only OS threads are signalled.
//  - If the M cannot be told (a G between Ms at that instant), glibc's
//    handler runs as it is; glibc then signals that M again next round.
#include <signal.h>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

constexpr int SIGSETXID = 33;

using handler_fn = void (*)(int, siginfo_t*, void*);
std::atomic<handler_fn> glibc_handler{nullptr};  // set once, before ours is installed
lock wrap_mu;

void on_setxid(int sig, siginfo_t* si, void* ctx) {
  void* tp = os::thread_pointer();
  G* g = tls_m ? nullptr : tls_g;
  M* m = g ? g->m : nullptr;
  handler_fn glibc = glibc_handler.load(std::memory_order_acquire);
  if (m && m->tcb && m->tcb != tp && m->tid == os::gettid()) {
    os::set_thread_pointer(m->tcb);
    glibc(sig, si, ctx);
    os::set_thread_pointer(tp);
    return;
  }
  glibc(sig, si, ctx);
}

}  // namespace

void setxid_wrap() {
  if (glibc_handler.load(std::memory_order_acquire)) return;
  lock_guard l(wrap_mu);  // Ms start from several threads
  if (glibc_handler.load(std::memory_order_relaxed)) return;
  void* h = os::signal_handler(SIGSETXID);
  if (!h || h == reinterpret_cast<void*>(SIG_IGN) || h == reinterpret_cast<void*>(on_setxid))
    return;
  glibc_handler.store(reinterpret_cast<handler_fn>(h), std::memory_order_release);
  if (os::set_signal_handler(SIGSETXID, on_setxid, SA_ONSTACK | SA_RESTART) != 0)
    diag("libgreen: cannot wrap glibc's SIGSETXID handler; setuid() and the like may hang\n");
}

}  // namespace green
