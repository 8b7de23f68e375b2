// Thread cancellation and pthread_exit on Gs, with glibc's semantics:
// deferred cancellation acted on at cancellation points, cleanup handlers,
// C++ destructors, PTHREAD_CANCELED as the thread's result.
//
// State (G.cancel, one atomic word of CANCEL_* bits): REQUESTED is set once
// by pthread_cancel and never cleared; DISABLED and ASYNC are the thread's
// own state and type, written only by the G itself; EXITING is set by the
// G when it starts to unwind (pthread_exit or acting on a cancellation),
// after which nothing is cancelled any more (cleanup handlers may block).
// A cancellation is *due* when REQUESTED is set and neither DISABLED nor
// EXITING is.
//
// Waking a blocked G: whoever makes a cancellation due (pthread_cancel, or
// the G re-enabling it) sets INTR_CANCEL in G.intr, which interrupts an
// interruptible park (parking.cpp) and a blocking system call in
// syscall_intr (intr.cpp). The bit may be stale (set by a canceller that
// saw the state enabled just before the G disabled it): whoever finds it
// set while no cancellation is due clears it, which is safe because only
// the G itself can make a cancellation due again, and then sets the bit.
// Cancellation points test the bit with one relaxed load (testcancel).
//
// Acting = unwinding, as glibc does it: a forced unwind
// (_Unwind_ForcedUnwind, exception class 0 so that C++ sees
// abi::__forced_unwind; a catch block that swallows it is fatal, as in
// glibc) runs C++ destructors, catch(...)/__forced_unwind handlers that
// rethrow, and the cleanup handlers of C code built with -fexceptions. The
// stop function runs the handlers C code without exceptions registered
// (pthread_cleanup_push expands to a setjmp and __pthread_register_cancel:
// the innermost buffer whose frame the unwinder is about to leave is
// longjmp'ed into; its routine runs and __pthread_unwind_next unwinds on),
// and the old _pthread_cleanup_push buffers, innermost first. At the G's
// entry frame (G.entry_sp: every older frame is libgreen's) the stop
// function ends the G with thread_exit(G.result); it never unwinds
// libgreen's own frames. Cleanup buffers are identified by address: a
// buffer lives in the frame that registered it, so that frame is being
// left when the frame's CFA is above the buffer.
//
// Asynchronous cancellation: acted on at the next cancellation point or
// cancellation-state call, when the G is preempted, and at once if the G
// runs application code when pthread_cancel signals its M (intr.cpp):
// cancel_async_signal unwinds from that signal handler only if every frame
// up to the G's entry is application code (never inside libc or libgreen).
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <unwind.h>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

static_assert(sizeof(_Unwind_Exception) <= sizeof(G::unwind_exc), "G.unwind_exc too small");

bool due(uint32_t c) {
  return (c & (CANCEL_REQUESTED | CANCEL_DISABLED | CANCEL_EXITING)) == CANCEL_REQUESTED;
}

// Our use of the private words of a registered __pthread_unwind_buf_t.
void*& buf_prev(__pthread_unwind_buf_t* b) { return b->__pad[0]; }
void*& buf_async(__pthread_unwind_buf_t* b) { return b->__pad[1]; }

void not_rethrown(_Unwind_Reason_Code, _Unwind_Exception*) {
  fatal("cancellation", "exception not rethrown: a catch block swallowed a thread's cancellation "
                        "or pthread_exit (catch abi::__forced_unwind and rethrow it)");
}

// Called by the unwinder for each frame, before the frame's own cleanups.
_Unwind_Reason_Code stop(int, _Unwind_Action actions, _Unwind_Exception_Class, _Unwind_Exception*,
                         struct _Unwind_Context* ctx, void*) {
  G* g = getg();
  uintptr_t cfa = UINTPTR_MAX;  // at the base: every buffer is being left
  if (!(actions & _UA_END_OF_STACK)) {
    cfa = _Unwind_GetCFA(ctx);
    if (g->entry_sp && cfa > g->entry_sp) cfa = UINTPTR_MAX;  // libgreen's entry frame
  }
  for (;;) {
    auto* old = static_cast<struct _pthread_cleanup_buffer*>(g->cleanup_old);
    auto* top = static_cast<__pthread_unwind_buf_t*>(g->cleanup_top);
    uintptr_t o = reinterpret_cast<uintptr_t>(old), t = reinterpret_cast<uintptr_t>(top);
    bool old_left = old && o < cfa, top_left = top && t < cfa;
    if (old_left && (!top_left || o < t)) {  // the innermost of the two first
      g->cleanup_old = old->__prev;
      old->__routine(old->__arg);
      continue;
    }
    // Into the frame that registered top: its routine runs there, then
    // __pthread_unwind_next (cleanup_unwind_next) carries on. The buffer
    // holds a setjmp state without a saved signal mask, which is all
    // longjmp reads.
    if (top_left) longjmp(reinterpret_cast<struct __jmp_buf_tag*>(top->__cancel_jmp_buf), 1);
    break;
  }
  if (cfa == UINTPTR_MAX) thread_exit(g->result);
  return _URC_NO_REASON;
}

[[noreturn]] void unwind(G* g) {
  auto* exc = reinterpret_cast<_Unwind_Exception*>(g->unwind_exc);
  exc->exception_class = 0;  // not catchable by type: C++ sees abi::__forced_unwind
  exc->exception_cleanup = not_rethrown;
  _Unwind_ForcedUnwind(exc, stop, nullptr);
  // Only if a frame has no usable unwind information.
  diag("libgreen: thread %lu: its stack cannot be unwound; it ends without running the "
       "remaining cleanup handlers and destructors\n", (unsigned long)g->id);
  thread_exit(g->result);
}

// The G starts unwinding: no cancellation any more.
void begin_exit(G* g, void* result) {
  g->cancel.fetch_or(CANCEL_EXITING, std::memory_order_acq_rel);
  g->intr.fetch_and(~INTR_CANCEL, std::memory_order_acq_rel);
  g->result = result;
}

// Act on a cancellation if one is due (never returns then); false if not.
bool act(G* g) {
  uint32_t c = g->cancel.load(std::memory_order_acquire);
  do {
    if (!due(c)) return false;
  } while (!g->cancel.compare_exchange_weak(c, c | CANCEL_EXITING, std::memory_order_acq_rel));
  begin_exit(g, PTHREAD_CANCELED);
  unwind(g);
}

// INTR_CANCEL was seen: act, or withdraw the stale bit. Never inside one
// of libgreen's signal handlers (nopark: the frame walk there calls write
// and other cancellation points of ours).
void testcancel_slow(G* g) {
  if (g->nopark) return;
  // REQUESTED before INTR_CANCEL: an acquire re-read of the word the caller
  // read relaxed (as a fence would; ThreadSanitizer models loads, not fences).
  (void)g->intr.load(std::memory_order_acquire);
  if (act(g)) return;
  g->intr.fetch_and(~INTR_CANCEL, std::memory_order_acq_rel);
}

// The G's own state or type changed to new_state.
void changed(G* g, uint32_t new_state) {
  if (new_state & CANCEL_DISABLED) {
    g->intr.fetch_and(~INTR_CANCEL, std::memory_order_acq_rel);
  } else if (due(new_state)) {
    g->intr.fetch_or(INTR_CANCEL, std::memory_order_acq_rel);
    if (new_state & CANCEL_ASYNC) act(g);  // as glibc: at once
  }
}

uint32_t set_bits(G* g, uint32_t bits, bool on) {
  uint32_t c = g->cancel.load(std::memory_order_relaxed), n;
  do n = on ? c | bits : c & ~bits;
  while (!g->cancel.compare_exchange_weak(c, n, std::memory_order_acq_rel));
  return c;
}

}  // namespace

void cancel_reset(G* g) {
  g->cancel.store(0, std::memory_order_relaxed);
  g->wake_tid.store(0, std::memory_order_relaxed);
  g->cleanup_top = nullptr;
  g->cleanup_old = nullptr;
}

int cancel(pthread_t t) {
  G* g = g_from_handle(t);
  if (!g) return ESRCH;
  if (g->status.load(std::memory_order_acquire) == gstatus::dead) return 0;  // outcome settled
  uint32_t old = g->cancel.fetch_or(CANCEL_REQUESTED, std::memory_order_acq_rel);
  if ((old & CANCEL_REQUESTED) || !due(old | CANCEL_REQUESTED)) return 0;
  if (g == getg()) {  // a cancellation point will see it; asynchronous: now
    changed(g, old | CANCEL_REQUESTED);
    return 0;
  }
  interrupt(g, INTR_CANCEL);  // a parked G wakes up
  wake_section(g);            // one blocked in the kernel is interrupted
  if (old & CANCEL_ASYNC) wake_running(g);
  return 0;
}

// The calling G's state (bit DISABLED) or type (bit ASYNC): value is
// set_value or clear_value, *old gets the previous one.
int set_own(uint32_t bit, int value, int set_value, int clear_value, int* old) {
  if (value != set_value && value != clear_value) return EINVAL;
  G* g = getg();
  uint32_t c = set_bits(g, bit, value == set_value);
  if (old) *old = (c & bit) ? set_value : clear_value;
  changed(g, g->cancel.load(std::memory_order_acquire));
  return 0;
}

int cancel_setstate(int state, int* old) {
  return set_own(CANCEL_DISABLED, state, PTHREAD_CANCEL_DISABLE, PTHREAD_CANCEL_ENABLE, old);
}

int cancel_settype(int type, int* old) {
  return set_own(CANCEL_ASYNC, type, PTHREAD_CANCEL_ASYNCHRONOUS, PTHREAD_CANCEL_DEFERRED, old);
}

void testcancel() {
  G* g = getg();
  if (__builtin_expect(g && (g->intr.load(std::memory_order_relaxed) & INTR_CANCEL), 0))
    testcancel_slow(g);
}

bool testcancel_intr() {
  G* g = getg();
  if (!g) return false;
  uint32_t i = g->intr.load(std::memory_order_acquire);
  if (!(i & INTR_CANCEL) || g->nopark) return false;  // a signal handler interrupted the wait
  testcancel_slow(g);                    // returns only if the bit was stale
  return (i & ~INTR_CANCEL) == 0;
}

void cancel_async_signal(G* g, void* ucv) {
  uint32_t c = g->cancel.load(std::memory_order_acquire);
  if (!(c & CANCEL_ASYNC) || !due(c) || g->nopark ||
      g->status.load(std::memory_order_relaxed) != gstatus::running)
    return;
  auto* uc = static_cast<ucontext_t*>(ucv);
  g->nopark++;  // the frame walk may take a lock: block the M, never switch
  bool safe = preempt_safe_point(g, uc);
  g->nopark--;
  if (!safe) return;  // inside libc or libgreen: at the next point instead
  // The handler's frame is left for good: the M gets the mask the G had.
  os::syscall6(SYS_rt_sigprocmask, SIG_SETMASK, (long)&uc->uc_sigmask, 0, 8);
  act(g);
}

[[noreturn]] void thread_exit_unwind(void* result) {
  G* g = getg();
  GREEN_CHECK(g, "not on a G");
  begin_exit(g, result);
  unwind(g);
}

// ---- cleanup handlers ----

void cleanup_register(__pthread_unwind_buf_t* buf, bool defer) {
  G* g = getg();
  buf_prev(buf) = g->cleanup_top;
  if (defer) {  // pthread_cleanup_push_defer_np: deferred until the pop
    uint32_t c = set_bits(g, CANCEL_ASYNC, false);
    buf_async(buf) = reinterpret_cast<void*>(uintptr_t((c & CANCEL_ASYNC) != 0));
  }
  g->cleanup_top = buf;
}

void cleanup_unregister(__pthread_unwind_buf_t* buf, bool restore) {
  G* g = getg();
  g->cleanup_top = buf_prev(buf);
  if (restore && buf_async(buf)) changed(g, set_bits(g, CANCEL_ASYNC, true) | CANCEL_ASYNC);
}

[[noreturn]] void cleanup_unwind_next(__pthread_unwind_buf_t* buf) {
  G* g = getg();
  g->cleanup_top = buf_prev(buf);
  unwind(g);
}

void cleanup_push_old(struct _pthread_cleanup_buffer* b, void (*fn)(void*), void* arg, bool defer) {
  G* g = getg();
  b->__routine = fn;
  b->__arg = arg;
  b->__prev = static_cast<struct _pthread_cleanup_buffer*>(g->cleanup_old);
  if (defer) {
    uint32_t c = set_bits(g, CANCEL_ASYNC, false);
    b->__canceltype = (c & CANCEL_ASYNC) ? PTHREAD_CANCEL_ASYNCHRONOUS : PTHREAD_CANCEL_DEFERRED;
  }
  g->cleanup_old = b;
}

void cleanup_pop_old(struct _pthread_cleanup_buffer* b, int execute, bool restore) {
  G* g = getg();
  g->cleanup_old = b->__prev;
  if (execute) b->__routine(b->__arg);
  if (restore && b->__canceltype == PTHREAD_CANCEL_ASYNCHRONOUS)
    changed(g, set_bits(g, CANCEL_ASYNC, true) | CANCEL_ASYNC);
}

}  // namespace green
