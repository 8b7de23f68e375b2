// Interruptible parks and syscall_intr (parking.cpp, intr.cpp): an interrupt
// is never lost (set before the park, or while parked), exactly one of
// unpark / timeout / interrupt wins, non-interruptible parks ignore it, and
// a G blocked in the kernel in syscall_intr is got out with EINTR.
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include <atomic>

#include "fixture.h"
#include "internal.h"
#include "os.h"

using namespace green;

static void start_runtime() { start_runtime_with(2); }

static bool always(const void*, const void*) { return true; }

static int64_t ms_from_now(int ms) { return os::now_ns(CLOCK_MONOTONIC) + int64_t(ms) * 1000000; }

static void* pending_before_park(void*) {
  G* self = getg();
  char key;
  interrupt(self, INTR_CANCEL);
  // Interruptible: returns at once; a plain park ignores the bits.
  cr_expect(park(&key, always, nullptr, 0, CLOCK_MONOTONIC, {}, true) == park_result::interrupted);
  cr_expect(park(&key, always, nullptr, ms_from_now(5), CLOCK_MONOTONIC) == park_result::timeout);
  cr_expect(park(&key, always, nullptr, 0, CLOCK_MONOTONIC, {}, true) == park_result::interrupted,
            "the bits stay until their owner clears them");
  self->intr.store(0);
  cr_expect(park(&key, always, nullptr, ms_from_now(5), CLOCK_MONOTONIC, {}, true) ==
            park_result::timeout);
  cr_expect(!parked_interruptibly(self));
  return nullptr;
}

Test(intr, pending_interrupt_is_seen_by_the_next_interruptible_park, .init = start_runtime) {
  cr_assert_eq(run(pending_before_park, nullptr, nullptr), 0);
}

// ---- one parked G, interrupted by another ----
static char key;
static std::atomic<G*> parked_g{nullptr};
static std::atomic<int> result{-1};

static void* interruptible_parker(void*) {
  parked_g = getg();
  result = (int)park(&key, always, nullptr, 0, CLOCK_MONOTONIC, {}, true);
  return nullptr;
}

static void* interrupt_parked(void*) {
  pthread_t t;
  cr_assert_eq(thread_create(&t, thread_attr{}, interruptible_parker, nullptr), 0);
  while (!parked_g.load() || !parked_interruptibly(parked_g.load())) yield();
  G* g = parked_g.load();
  interrupt(g, INTR_SIGNAL);
  cr_assert_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false), 0);
  cr_expect_eq(result.load(), (int)park_result::interrupted);
  cr_expect(g->intr.load() & INTR_SIGNAL, "the bits stay for the woken G to see");
  return nullptr;
}

Test(intr, interrupt_wakes_a_parked_g, .init = start_runtime) {
  cr_assert_eq(run(interrupt_parked, nullptr, nullptr), 0);
}

static void* plain_parker(void*) {
  parked_g = getg();
  result = (int)park(&key, always, nullptr, 0, CLOCK_MONOTONIC);
  return nullptr;
}

static void* interrupt_plain(void*) {
  pthread_t t;
  parked_g = nullptr;
  cr_assert_eq(thread_create(&t, thread_attr{}, plain_parker, nullptr), 0);
  while (!parked_g.load() || parked_g.load()->status.load() != gstatus::waiting) yield();
  interrupt(parked_g.load(), INTR_CANCEL, true);  // only_if_parked: withdrawn
  cr_expect_eq(parked_g.load()->intr.load(), 0u);
  for (int i = 0; i < 100; i++) yield();
  cr_expect_eq(parked_g.load()->status.load(), gstatus::waiting, "a plain park ignores interrupts");
  while (unpark_one(&key) == 0) yield();
  cr_assert_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false), 0);
  cr_expect_eq(result.load(), (int)park_result::woken);
  return nullptr;
}

Test(intr, plain_parks_ignore_interrupts, .init = start_runtime) {
  cr_assert_eq(run(interrupt_plain, nullptr, nullptr), 0);
}

// ---- races: exactly one of unpark / timeout / interrupt wins ----
struct race {
  char key;
  std::atomic<G*> g{nullptr};
  std::atomic<int> res{-1};
  int64_t deadline = 0;
};

static void* race_parker(void* p) {
  auto* r = static_cast<race*>(p);
  r->g = getg();
  r->res = (int)park(&r->key, always, nullptr, r->deadline, CLOCK_MONOTONIC, {}, true);
  getg()->intr.store(0);
  return nullptr;
}

static void* races(void*) {
  constexpr int ROUNDS = 3000;
  int woken = 0, interrupted = 0, timed_out = 0;
  for (int i = 0; i < ROUNDS; i++) {
    race r;
    r.deadline = i % 3 == 2 ? ms_from_now(0) + 20000 : 0;  // a timer racing too
    pthread_t t;
    cr_assert_eq(thread_create(&t, thread_attr{}, race_parker, &r), 0);
    while (!r.g.load()) yield();
    if (i % 2) yield();
    int unparked = i % 3 == 1 ? 0 : unpark_one(&r.key);
    interrupt(r.g.load(), INTR_CANCEL);
    if (i % 3 == 1) unparked = unpark_one(&r.key);
    cr_assert_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false), 0);
    switch ((park_result)r.res.load()) {
      case park_result::woken:
        woken++;
        cr_assert_eq(unparked, 1, "round %d: woken, but unpark found nobody", i);
        break;
      case park_result::interrupted:
        interrupted++;
        cr_assert_eq(unparked, 0, "round %d: interrupted and unparked", i);
        break;
      case park_result::timeout:
        timed_out++;
        cr_assert_eq(unparked, 0, "round %d: timed out and unparked", i);
        break;
      default: cr_assert_fail("round %d: result %d", i, r.res.load());
    }
  }
  cr_expect_eq(woken + interrupted + timed_out, ROUNDS);
  cr_expect_gt(interrupted, 0);
  return nullptr;
}

Test(intr, unpark_timeout_and_interrupt_race, .init = start_runtime) {
  cr_assert_eq(run(races, nullptr, nullptr), 0);
}

// ---- syscall_intr: out of the kernel with EINTR ----
static int fds[2];
static std::atomic<long> sys_result{0};
static std::atomic<G*> sys_g{nullptr};

static void* reader(void*) {
  char b;
  sys_g = getg();
  sys_result = syscall_intr(SYS_read, fds[0], (long)&b, 1);
  return nullptr;
}

static void* interrupt_syscall(void*) {
  cr_assert_eq(pipe(fds), 0);
  char b = 'x';
  // Not interrupted: the call's own result.
  cr_assert_eq(os::syscall6(SYS_write, fds[1], (long)&b, 1), 1);
  cr_expect_eq(syscall_intr(SYS_read, fds[0], (long)&b, 1), 1);
  // Blocked in the kernel, then interrupted.
  pthread_t t;
  cr_assert_eq(thread_create(&t, thread_attr{}, reader, nullptr), 0);
  while (!sys_g.load() || sys_g.load()->wake_tid.load() <= 0) yield();
  usleep(20000);  // in read(2) by now, most likely; either way it must end
  interrupt(sys_g.load(), INTR_CANCEL);
  wake_section(sys_g.load());
  cr_assert_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false), 0);
  cr_expect_eq(sys_result.load(), -EINTR);
  cr_expect_eq(sys_g.load()->wake_tid.load(), 0);
  // Interrupted before the call: it does not enter the kernel at all.
  G* self = getg();
  interrupt(self, INTR_CANCEL);
  cr_expect_eq(syscall_intr(SYS_read, fds[0], (long)&b, 1), -EINTR);
  self->intr.store(0);
  return nullptr;
}

Test(intr, syscall_intr_is_interrupted, .init = start_runtime) {
  cr_assert_eq(run(interrupt_syscall, nullptr, nullptr), 0);
}
