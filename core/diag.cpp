// Diagnostics that need no help from the application: a message naming the
// thread when a G overflows its stack, and a thread dump on a signal
// (GREEN_DUMP_SIGNAL). The dump itself is dump.cpp; deadlock reports are
// deadlock.cpp.
//
// Stack overflow. A G's stack has a guard region just below it (stack.cpp).
// A fault there cannot push a signal frame on the G's own stack, so every M
// has an alternate signal stack while it runs the scheduler (m_diag) and
// the SIGSEGV/SIGBUS handler runs on it (SA_ONSTACK). The handler is
// installed at start only where the disposition is still SIG_DFL, with
// SA_RESETHAND: the kernel restores SIG_DFL as it enters the handler, which
// prints the message (only for a fault in the current G's guard region, or
// with the stack pointer below its stack) and returns; the faulting
// instruction runs again and the process dies by the signal as it would
// natively (same status, a core dump where enabled). A signal sent with
// kill is sent again instead, to the same end. A handler the application
// installs replaces ours, as natively; sigaction shows the program SIG_DFL
// where ours is (default_fault_handler), so code that chains to the handler
// it replaced, or installs one only over SIG_DFL, acts as it would natively.
//
// Dump signal. Its handler only wakes the dump thread (note::wakeup: an
// atomic exchange and a futex wake, async-signal-safe, errno untouched);
// that thread, which blocks every signal, prints. Both exist only when
// GREEN_DUMP_SIGNAL is set; the handler is SA_RESTART, so a system call it
// interrupts restarts where Linux allows.
//
// Runtime threads. live_threads counts the OS threads libgreen made that
// are alive: every start_os_thread (Ms, sysmon, the poller, the dump
// thread) until an M among them leaves the scheduler, plus the initial
// thread once it becomes an M. deadlock.cpp compares it with the kernel's
// count to know whether threads it did not make exist (they might wake a G).
// It counts a thread a little before the kernel does not, never after.
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include <new>

#include "internal.h"
#include "os.h"

namespace green {

bool diag_timestamps = false;
lock diag_mu;

namespace {

constexpr size_t PAGE = 4096;
constexpr size_t ALTSTACK_SIZE = 64 << 10;  // the handler formats one line

std::atomic<int> live_threads{0};
note dump_wake;

bool overflowed(const G* g, uintptr_t addr, uintptr_t sp) {
  uintptr_t base = reinterpret_cast<uintptr_t>(g->stack.base);
  size_t guard = g->stack.guard ? g->stack.guard : PAGE;
  bool in_guard = addr < base && addr >= base - guard;
  bool sp_below = sp < base && sp >= base - (1 << 20);  // a frame bigger than the guard
  return in_guard || sp_below;
}

void say_overflow(const G* g) {
  const char* name = g->name[0] ? g->name : program_invocation_short_name;
  size_t kib = g->stack.size >> 10;
  if (g->stack.user)
    diag("libgreen: thread %lu (%.15s) overflowed its %zu KiB stack, the one given with "
         "pthread_attr_setstack; give it a bigger one\n",
         (unsigned long)g->id, name, kib);
  else if (g->stack.size != sched.cfg.stack_size)
    diag("libgreen: thread %lu (%.15s) overflowed its %zu KiB stack, a size the program chose "
         "with pthread_attr_setstacksize; raise it there\n",
         (unsigned long)g->id, name, kib);
  else
    diag("libgreen: thread %lu (%.15s) overflowed its %zu KiB stack; set GREEN_STACK_SIZE "
         "(the default for every thread, now %zu KiB) or pthread_attr_setstacksize to raise "
         "it\n",
         (unsigned long)g->id, name, kib, sched.cfg.stack_size >> 10);
}

// SIGSEGV/SIGBUS, on the M's alternate stack. Delivered, SIG_DFL is back
// already (SA_RESETHAND); called by a handler that chains to the one it
// replaced, it restores SIG_DFL itself, which is what chaining to SIG_DFL
// means.
void on_fault(int sig, siginfo_t* si, void* ucv) {
  os::set_signal_handler(sig, nullptr, 0);
  G* g = tls_g;  // the thread pointer is the running G's TCB, else the M's
  if (si->si_code > 0 && g && g->magic.load(std::memory_order_relaxed) == G_MAGIC) {
    auto* uc = static_cast<ucontext_t*>(ucv);
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    if (overflowed(g, reinterpret_cast<uintptr_t>(si->si_addr), sp)) say_overflow(g);
  }
  if (si->si_code <= 0)  // sent, not a fault: nothing re-executes, so send it again
    os::syscall6(SYS_tgkill, os::syscall6(SYS_getpid), os::gettid(), sig);
}

void on_dump_signal(int, siginfo_t*, void*) { dump_wake.wakeup(); }

void* dump_main(void*) {
  block_all_signals();  // never the thread the kernel picks for a process signal
  int sig = sched.cfg.dump_signal;
  const char* abbrev = sigabbrev_np(sig);
  char why[96];
  if (abbrev)
    snprintf(why, sizeof why, "thread dump on SIG%s (GREEN_DUMP_SIGNAL)", abbrev);
  else
    snprintf(why, sizeof why, "thread dump on signal %d (GREEN_DUMP_SIGNAL)", sig);
  for (;;) {
    dump_wake.sleep(0);
    dump_wake.clear();  // a signal during the dump asks for another one
    dump_threads(2, why);
  }
  return nullptr;
}

void start_dump_thread() {
  int err = start_os_thread(dump_main, nullptr);
  if (err)
    diag("libgreen: cannot start the thread-dump thread (error %d): GREEN_DUMP_SIGNAL will "
         "print nothing\n", err);
}

}  // namespace

void diag_init() {
  const config& cfg = sched.cfg;
  diag_timestamps = cfg.deadlock != deadlock_action::off || cfg.dump_signal != 0;
  for (int sig : {SIGSEGV, SIGBUS})
    if (os::signal_handler(sig) == nullptr)  // SIG_DFL: nobody else wants it
      os::set_signal_handler(sig, on_fault, SA_ONSTACK | SA_RESETHAND);
  if (cfg.dump_signal) {
    if (os::set_signal_handler(cfg.dump_signal, on_dump_signal, SA_RESTART) == 0)
      start_dump_thread();
    else
      diag("libgreen: cannot handle signal %d (GREEN_DUMP_SIGNAL)\n", cfg.dump_signal);
  }
}

bool default_fault_handler(const void* handler) {
  return handler == reinterpret_cast<const void*>(&on_fault);
}

void diag_thread_started() { live_threads.fetch_add(1, std::memory_order_relaxed); }

int runtime_threads() { return live_threads.load(std::memory_order_relaxed); }

m_diag::m_diag(M* m) : m_(m), altstack_(nullptr) {
  // [guard page | ALTSTACK_SIZE]: overflowing the handler's stack faults too.
  auto* mem = static_cast<char*>(os::mmap_anon(PAGE + ALTSTACK_SIZE, false));
  if (mem) {
    stack_t ss = {mem + PAGE, 0, ALTSTACK_SIZE};
    if (os::mprotect(mem, PAGE, PROT_NONE) == 0 &&
        os::syscall6(SYS_sigaltstack, (long)&ss, 0) == 0)
      altstack_ = mem;
    else
      os::munmap(mem, PAGE + ALTSTACK_SIZE);
  }
  // Ms made by newm were counted by start_os_thread; the thread that became
  // an M by itself (mstart_current) is counted here.
  if (!m->can_exit) live_threads.fetch_add(1, std::memory_order_relaxed);
}

m_diag::~m_diag() {  // the M leaves the scheduler, and then its thread ends
  if (altstack_) {
    stack_t ss = {nullptr, SS_DISABLE, 0};
    os::syscall6(SYS_sigaltstack, (long)&ss, 0);
    os::munmap(altstack_, PAGE + ALTSTACK_SIZE);
  }
  if (m_->can_exit) live_threads.fetch_sub(1, std::memory_order_relaxed);
}

// A dump in progress holds diag_mu; the child gets it free, the calling
// thread as its only runtime thread, and a dump thread of its own.
void diag_fork(fork_phase ph) {
  if (ph == fork_phase::prepare) return diag_mu.acquire();
  if (ph == fork_phase::parent) return diag_mu.release();
  new (&diag_mu) lock();
  new (&dump_wake) note();
  live_threads.store(getm() ? 1 : 0, std::memory_order_relaxed);
  if (sched.cfg.dump_signal) start_dump_thread();
}

}  // namespace green
