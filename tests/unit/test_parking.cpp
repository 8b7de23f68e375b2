// Parking lot: validation under the bucket lock, timeouts, wake one / all,
// for OS-thread waiters (no runtime) and for Gs.
#include <criterion/criterion.h>
#include <pthread.h>

#include <atomic>
#include <thread>
#include <vector>

#include "fixture.h"
#include "internal.h"
#include "os.h"

using namespace green;

static std::atomic<int> word{0};
static bool word_is_zero(const void*, const void*) { return word.load() == 0; }

Test(parking, invalid_when_validation_fails) {
  word = 1;
  cr_expect(park(&word, word_is_zero, nullptr, 0, CLOCK_MONOTONIC) == park_result::invalid);
}

Test(parking, times_out) {
  word = 0;
  int64_t t0 = os::now_ns(CLOCK_MONOTONIC);
  int64_t deadline = t0 + 20 * 1000000;
  cr_expect(park(&word, word_is_zero, nullptr, deadline, CLOCK_MONOTONIC) == park_result::timeout);
  cr_expect_geq(os::now_ns(CLOCK_MONOTONIC), deadline, "never early");
}

Test(parking, unpark_one_wakes_exactly_one_then_all) {
  word = 0;
  std::atomic<int> woken{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; i++)
    ts.emplace_back([&] {
      if (park(&word, word_is_zero, nullptr, 0, CLOCK_MONOTONIC) == park_result::woken) woken++;
    });
  // Wait until all three are queued: unpark_one returns 0 while nobody is.
  int got = 0;
  while (got == 0) {
    os::syscall6(SYS_sched_yield);
    usleep(20000);
    got = unpark_one(&word);
  }
  cr_expect_eq(got, 1);
  while (woken.load() < 1) usleep(1000);
  usleep(50000);
  cr_expect_eq(woken.load(), 1, "unpark_one woke exactly one");
  int rest = 0;
  while (rest < 2) rest += unpark_all(&word);
  for (auto& t : ts) t.join();
  cr_expect_eq(woken.load(), 3);
}

// ---- with the scheduler: Gs park and are readied ----
static std::atomic<int> g_word{0};
static bool g_word_zero(const void*, const void*) { return g_word.load() == 0; }
static std::atomic<int> g_woken{0};

static void* parker(void*) {
  if (park(&g_word, g_word_zero, nullptr, 0, CLOCK_MONOTONIC) == park_result::woken) g_woken++;
  return nullptr;
}

static void* park_many(void*) {
  constexpr int N = 1000;
  std::vector<pthread_t> ts(N);
  for (auto& t : ts) cr_assert_eq(thread_create(&t, thread_attr{}, parker, nullptr), 0);
  while (g_woken.load() < N) {
    unpark_all(&g_word);
    yield();
  }
  for (auto& t : ts) cr_assert_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false), 0);
  return nullptr;
}

static void* timed_parker(void*) {
  int64_t deadline = os::now_ns(CLOCK_MONOTONIC) + 30 * 1000000;
  park_result r = park(&g_word, g_word_zero, nullptr, deadline, CLOCK_MONOTONIC);
  cr_expect(r == park_result::timeout);
  cr_expect_geq(os::now_ns(CLOCK_MONOTONIC), deadline);
  return nullptr;
}

static void start_runtime() { start_runtime_with(2); }

Test(parking, gs_park_and_wake, .init = start_runtime) {
  cr_assert_eq(run(park_many, nullptr, nullptr), 0);
  cr_expect_eq(g_woken.load(), 1000);
}

Test(parking, g_timeout_fires, .init = start_runtime) {
  cr_assert_eq(run(timed_parker, nullptr, nullptr), 0);
}
