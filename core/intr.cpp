// Getting a G out of the kernel: the wake signal (signals.h) and
// syscall_intr, the blocking system call of a cancellation point.
//
// A G blocked in a system call holds its M in the kernel; only a signal to
// that M gets it out. syscall_intr makes the call through a small assembly
// stub (green_intr_syscall) whose code between green_intr_begin and
// green_intr_end tests the G's interruption bits and then executes the
// `syscall` instruction, so that, as in musl's cancellation, the wake
// signal's handler can tell exactly where the G is:
//   - PC in [begin, end) with an interruption bit set: the call has not
//     started, or was interrupted and is about to be restarted (SA_RESTART
//     rewinds the PC onto the `syscall` instruction): the handler moves the
//     PC to green_intr_cancel, which returns -EINTR;
//   - PC at end: the call returned (its result, or -EINTR for calls Linux
//     never restarts): nothing to do;
//   - elsewhere: the G runs (cancel_async_signal may act on an
//     asynchronous cancellation) or the M runs something else: nothing.
// So a cancellation can neither be lost between the test and the call nor
// undo a call that completed.
//
// No stray signal: G.wake_tid holds the M's tid while the G is inside
// syscall_intr. wake_section claims it with a CAS (tid -> WAKE_SENDING),
// sends, then publishes WAKE_SENT; the G leaves with a CAS (tid -> 0), and
// if it lost, waits for WAKE_SENT and takes the pending signal (any system
// call delivers it) before it leaves its syscall section. A wake signal is
// therefore only ever sent to an M whose G is still in syscall_intr, and
// is delivered before that M runs anything else. G.intr is set before
// wake_tid is read, wake_tid is published before the stub reads G.intr
// (seq_cst both): either the stub sees the bit or the G gets the signal.
// The handler is installed with SA_RESTART, so even a wake signal that
// reaches another call (wake_running's, to a G that moved on) only
// restarts it, except for the calls Linux never restarts (poll, sleeps).
#include <errno.h>
#include <signal.h>
#include <ucontext.h>

#include "internal.h"
#include "os.h"
#include "signals.h"

extern "C" {
long green_intr_syscall(long nr, const long* args, const void* flag, uint32_t mask);
extern char green_intr_begin[], green_intr_end[], green_intr_cancel[], green_intr_stub_end[];
}

// rdi = nr, rsi = args[6], rdx = flag (uint32_t*), ecx = mask. rbx and r12
// keep flag and mask across the call, where the handler reads them.
asm(R"(
  .text
  .globl green_intr_syscall
  .hidden green_intr_syscall
  .type green_intr_syscall,@function
green_intr_syscall:
  .cfi_startproc
  pushq %rbx
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %rbx, 0
  pushq %r12
  .cfi_adjust_cfa_offset 8
  .cfi_rel_offset %r12, 0
  movq %rdx, %rbx
  movl %ecx, %r12d
  movq %rdi, %rax
  movq %rsi, %r11
  movq 0(%r11), %rdi
  movq 8(%r11), %rsi
  movq 16(%r11), %rdx
  movq 24(%r11), %r10
  movq 32(%r11), %r8
  movq 40(%r11), %r9
  .globl green_intr_begin
  .hidden green_intr_begin
green_intr_begin:
  testl %r12d, (%rbx)
  jnz green_intr_cancel
  syscall
  .globl green_intr_end
  .hidden green_intr_end
green_intr_end:
1:
  .cfi_remember_state
  popq %r12
  .cfi_adjust_cfa_offset -8
  .cfi_restore %r12
  popq %rbx
  .cfi_adjust_cfa_offset -8
  .cfi_restore %rbx
  ret
  .cfi_restore_state
  .globl green_intr_cancel
  .hidden green_intr_cancel
green_intr_cancel:
  movq $-4, %rax
  jmp 1b
  .globl green_intr_stub_end
  .hidden green_intr_stub_end
green_intr_stub_end:
  .cfi_endproc
  .size green_intr_syscall, .-green_intr_syscall
)");

namespace green {

namespace {

static_assert(EINTR == 4, "green_intr_cancel returns -4");
constexpr int WAKE_SENDING = -1, WAKE_SENT = -2;
int sig;

void on_wake(int, siginfo_t*, void* ucv) {
  auto* uc = static_cast<ucontext_t*>(ucv);
  greg_t* r = uc->uc_mcontext.gregs;
  auto pc = static_cast<uintptr_t>(r[REG_RIP]);
  if (pc >= reinterpret_cast<uintptr_t>(green_intr_begin) &&
      pc < reinterpret_cast<uintptr_t>(green_intr_end)) {
    auto* flag = reinterpret_cast<const uint32_t*>(r[REG_RBX]);
    if (__atomic_load_n(flag, __ATOMIC_ACQUIRE) & static_cast<uint32_t>(r[REG_R12]))
      r[REG_RIP] = reinterpret_cast<greg_t>(green_intr_cancel);
    return;
  }
  G* g = getg();
  if (!g) return;
  int saved_errno = errno;
  cancel_async_signal(g, uc);  // returns unless it unwinds the G
  errno = saved_errno;
}

int self_pid() { return (int)os::syscall6(SYS_getpid); }  // not cached: fork changes it

}  // namespace

int wake_signal() { return sig; }

bool in_intr_stub(uintptr_t pc) {
  return pc >= reinterpret_cast<uintptr_t>(green_intr_syscall) &&
         pc < reinterpret_cast<uintptr_t>(green_intr_stub_end);
}

uint64_t signals_reserved() {
  uint64_t m = 0;
  for (int s : {sig, preempt_signal()})
    if (s > 0) m |= 1ull << (s - 1);
  return m;
}

bool intr_init() {
  int s = SIG_WAKE_DEFAULT;
  while (s >= 34 && (s == preempt_signal() || os::signal_handler(s) != SIG_DFL)) s--;
  if (s < 34 || os::set_signal_handler(s, on_wake, SA_RESTART) != 0) return false;
  sig = s;
  return true;
}

long syscall_intr(long nr, long a, long b, long c, long d, long e, long f) {
  G* g = getg_switchable();
  if (!g || !sched.started.load(std::memory_order_relaxed) || !sig) {
    if (G* self = getg()) self->section_block = false;  // no section: the hint lapses
    return os::syscall6(nr, a, b, c, d, e, f);
  }
  long args[6] = {a, b, c, d, e, f};
  // sigsuspend and pause wait for a handler: they also end, without the
  // call, if a signal was forwarded to this G just before (signal_forward).
  uint64_t accepts = 0;
  if (nr == SYS_rt_sigsuspend)
    accepts = ~*reinterpret_cast<const uint64_t*>(a);
  else if (nr == SYS_pause)
    accepts = ~g->sigmask.load(std::memory_order_relaxed);
  uint32_t stop = accepts ? INTR_CANCEL | INTR_SIGNAL : INTR_CANCEL;
  syscall_enter();
  int tid = g->m->tid;  // the G stays on this M until syscall_exit
  if (accepts) suspend_begin(g, accepts);
  g->wake_tid.store(tid, std::memory_order_seq_cst);
  long r = green_intr_syscall(nr, args, &g->intr, stop);
  if (accepts) suspend_end(g);
  int mine = tid;
  if (!g->wake_tid.compare_exchange_strong(mine, 0, std::memory_order_acq_rel)) {
    for (int spins = 0; g->wake_tid.load(std::memory_order_acquire) != WAKE_SENT; spins++)
      if (spins > 100) os::syscall6(SYS_sched_yield);
    os::syscall6(SYS_getppid);  // a pending signal is handled as any system call returns
    g->wake_tid.store(0, std::memory_order_relaxed);
  }
  syscall_exit();
  return r;
}

void wake_section(G* g) {
  int tid = g->wake_tid.load(std::memory_order_seq_cst);
  if (tid <= 0 ||
      !g->wake_tid.compare_exchange_strong(tid, WAKE_SENDING, std::memory_order_acq_rel))
    return;
  os::syscall6(SYS_tgkill, self_pid(), tid, sig);
  g->wake_tid.store(WAKE_SENT, std::memory_order_release);
}

void wake_running(G* g) {
  if (!sig || g->status.load(std::memory_order_acquire) != gstatus::running) return;
  int tid = tls_tid(g);
  if (tid > 0) os::syscall6(SYS_tgkill, self_pid(), tid, sig);
}

}  // namespace green
