// Thread lifecycle on Gs: create, exit, join, detach, names, stacks.
//
// Join protocol (G.join_state, one atomic word):
//   JOINABLE --detach--> DETACHED --exit--> reclaimed by g0
//   JOINABLE --join----> JOINING  --exit--> EXITED, joiner unparked
//   JOINABLE --exit----> EXITED   --join/detach--> reclaimed by that caller
// Exactly one party reclaims a G (gfree): g0 for a detached G, otherwise
// whoever moves the state out of EXITED with a CAS. A joiner parks on the
// address of join_state; the exiting side unparks after publishing EXITED,
// or (exit_handoff, sched.cpp) takes the parked joiner out of the lot,
// switches to it and publishes EXITED on the joiner's stack, as the dead
// G's stack may be reused as soon as the joiner can see EXITED.
//
// Process lifetime: main's return calls exit(); pthread_exit on main only
// ends the main G, and the process exits with status 0 when the last G ends.
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "os.h"
#include "probes.h"
#include "sync.h"

namespace green {

namespace {

std::atomic<bool> main_exited{false};
constexpr uint32_t JOIN_RECLAIMED = 0xdead;

bool join_validate(const void* addr, const void*) {
  return static_cast<const std::atomic<uint32_t>*>(addr)->load(std::memory_order_acquire) ==
         JOIN_JOINING;
}

// Move an EXITED G to reclaimed; true if this caller owns the reclaim.
bool claim_exited(G* g) {
  uint32_t s = JOIN_EXITED;
  return g->join_state.compare_exchange_strong(s, JOIN_RECLAIMED, std::memory_order_acq_rel);
}

}  // namespace

bool on_green() { return getg_switchable() != nullptr; }
bool is_green(pthread_t t) { return g_from_handle(t) != nullptr; }

int thread_create(pthread_t* out, const thread_attr& attr, void* (*fn)(void*), void* arg) {
  size_t size = attr.stack_size ? attr.stack_size : sched.cfg.stack_size;
  G* g = galloc(size, attr.stack_addr, attr.guard_size);
  if (!g) return EAGAIN;
  g->fn = fn;
  g->arg = arg;
  g->join_state.store(attr.detached ? JOIN_DETACHED : JOIN_JOINABLE, std::memory_order_relaxed);
  G* parent = getg();
  signals_g_created(g, creator_mask());  // POSIX: the creator's signal mask
  stats_g_created();
  GREEN_PROBE2(g_create, g->id, parent ? parent->id : 0);
  *out = reinterpret_cast<pthread_t>(g->tcb);  // before it can run (and end)
  ready(g);
  return 0;
}

[[noreturn]] void thread_exit(void* result) {
  G* g = getg();
  GREEN_CHECK(g, "not on a G");
  g->result = result;
  // Destructors below are not cancelled (they may block at cancellation
  // points): the thread is ending.
  g->cancel.fetch_or(CANCEL_EXITING, std::memory_order_acq_rel);
  // (A cancel that sets INTR_CANCEL after this load acts as one that set
  // it after the fetch_and: the bit stays.)
  if (g->intr.load(std::memory_order_acquire) & INTR_CANCEL)
    g->intr.fetch_and(~INTR_CANCEL, std::memory_order_acq_rel);
  tls_run_dtors();
  keys_run_destructors();
  // Last, as the kernel walks glibc's robust list only when the thread has
  // ended: a destructor may still unlock (or lock) a robust mutex.
  robust_owner_exit();
  if (g->is_main) main_exited.store(true, std::memory_order_release);
  GREEN_PROBE1(g_exit, g->id);
  goexit();
}

// The joiner is taken out of the lot before EXITED is published (by
// thread_finish, on the joiner's stack): g's stack is still in use. While
// it is out, JOINING cannot change: its timeout and interruption found it
// dequeued, and detach and other joins fail on JOINING.
G* thread_exit_joiner(G* g) {
  if (g->join_state.load(std::memory_order_acquire) != JOIN_JOINING) return nullptr;
  return unpark_take(&g->join_state);
}

void thread_finish(G* g, bool joiner_taken) {
  signals_g_exited(g);
  g->status.store(gstatus::dead, std::memory_order_release);
  uint32_t s = g->join_state.load(std::memory_order_acquire);
  if (joiner_taken) {  // JOINING, and nobody else may change it (thread_exit_joiner)
    GREEN_ASSERT(s == JOIN_JOINING);
    g->join_state.store(JOIN_EXITED, std::memory_order_release);
  }
  while (!joiner_taken) {
    if (s == JOIN_DETACHED) {
      gfree(g);
      break;
    }
    if (g->join_state.compare_exchange_weak(s, JOIN_EXITED, std::memory_order_acq_rel)) {
      if (s == JOIN_JOINING) unpark_all(&g->join_state);  // g may be reclaimed already:
      break;                                                // only its address is used
    }
  }
  stats_g_exited();
  if (stats.live_gs.load(std::memory_order_acquire) == 0 &&
      main_exited.load(std::memory_order_acquire))
    exit(0);  // POSIX: the process ends with the last thread
}

int thread_join(pthread_t t, void** result, const struct timespec* abstime, clockid_t clock,
                bool try_only) {
  G* g = g_from_handle(t);
  if (!g) return ESRCH;
  G* self = getg();
  if (g == self || (self && g->joining == self)) return EDEADLK;
  int64_t deadline = 0;
  if (abstime) {
    if (abstime->tv_nsec < 0 || abstime->tv_nsec >= 1000000000) return EINVAL;
    deadline = abstime->tv_sec < 0 ? 1 : (int64_t)abstime->tv_sec * 1000000000 + abstime->tv_nsec;
  }
  bool mine = false;
  for (;;) {
    uint32_t s = g->join_state.load(std::memory_order_acquire);
    if (s == JOIN_EXITED) {
      if (!claim_exited(g)) continue;
      if (self) self->joining = nullptr;
      if (result) *result = g->result;
      gfree(g);
      return 0;
    }
    if (s == JOIN_DETACHED || s == JOIN_RECLAIMED || (s == JOIN_JOINING && !mine)) return EINVAL;
    if (s == JOIN_JOINABLE) {
      if (try_only) return EBUSY;
      if (!g->join_state.compare_exchange_strong(s, JOIN_JOINING, std::memory_order_acq_rel))
        continue;
      mine = true;
      if (self) self->joining = g;
    }
    park_result pr =
        park(&g->join_state, join_validate, nullptr, deadline, clock, {wait_kind::join, g->tcb}, true);
    if (pr == park_result::timeout || pr == park_result::interrupted) {
      // Give the join up, leaving t joinable (POSIX, for a cancelled
      // joiner too), unless t exited meanwhile: then the join completes.
      uint32_t j = JOIN_JOINING;
      if (g->join_state.compare_exchange_strong(j, JOIN_JOINABLE, std::memory_order_acq_rel)) {
        if (self) self->joining = nullptr;
        return pr == park_result::timeout ? ETIMEDOUT : EINTR;
      }
    }
  }
}

int thread_detach(pthread_t t) {
  G* g = g_from_handle(t);
  if (!g) return ESRCH;
  uint32_t s = g->join_state.load(std::memory_order_acquire);
  for (;;) {
    if (s == JOIN_JOINABLE) {
      if (g->join_state.compare_exchange_weak(s, JOIN_DETACHED, std::memory_order_acq_rel))
        return 0;
      continue;
    }
    if (s == JOIN_EXITED) {
      if (claim_exited(g)) {
        gfree(g);
        return 0;
      }
      s = g->join_state.load(std::memory_order_acquire);
      continue;
    }
    return EINVAL;
  }
}

void yield() {
  if (getg_switchable() && sched.started.load(std::memory_order_relaxed))
    gosched();
  else
    os::syscall6(SYS_sched_yield);
}

int thread_setname(pthread_t t, const char* name) {
  G* g = g_from_handle(t);
  if (!g) return ESRCH;
  size_t n = strlen(name);
  if (n >= sizeof g->name) return ERANGE;
  memcpy(g->name, name, n + 1);
  return 0;
}

// A G never named reports the process name, as a new kernel thread
// inherits its creator's comm.
int thread_getname(pthread_t t, char* buf, size_t len) {
  G* g = g_from_handle(t);
  if (!g) return ESRCH;
  if (len < sizeof g->name) return ERANGE;
  const char* name = g->name[0] ? g->name : program_invocation_short_name;
  size_t n = strnlen(name, sizeof g->name - 1);
  memcpy(buf, name, n);
  buf[n] = 0;
  return 0;
}

int thread_stack(pthread_t t, void** addr, size_t* size, size_t* guard, bool* detached) {
  G* g = g_from_handle(t);
  if (!g) return ESRCH;
  *addr = g->stack.base;
  *size = g->stack.size;
  *guard = g->stack.guard;
  *detached = g->join_state.load(std::memory_order_acquire) == JOIN_DETACHED;
  return 0;
}

void stats_g_created() {
  if (P* p = getp())
    count(p->ncreated);  // the P's owner: no locked instruction
  else
    stats.gs_created.fetch_add(1, std::memory_order_relaxed);
  int64_t live = stats.live_gs.fetch_add(1, std::memory_order_relaxed) + 1;
  int64_t peak = stats.peak_gs.load(std::memory_order_relaxed);
  while (live > peak && !stats.peak_gs.compare_exchange_weak(peak, live)) {
  }
}

void stats_g_exited() { stats.live_gs.fetch_sub(1, std::memory_order_acq_rel); }

}  // namespace green
