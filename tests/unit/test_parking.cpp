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

// ---- park_opts.after, unpark_one_then, requeue (the sync objects' extras) ----

// after() runs once the caller is queued: unparking from inside it finds
// the caller, which then returns woken.
static std::atomic<int> q_word{0};
static bool q_word_zero(const void*, const void*) { return q_word.load() == 0; }
static std::atomic<int> after_calls{0}, after_found{0};
static void after_unpark(void* addr) {
  after_found += unpark_one(addr);
  after_calls++;  // last: the woken waiter waits for it
}

static void* after_then_woken(void*) {
  q_word = 0;
  park_opts o;
  o.after = after_unpark;
  o.after_arg = &q_word;
  cr_expect(park(&q_word, q_word_zero, nullptr, 0, CLOCK_MONOTONIC, {}, false, &o) == park_result::woken);
  cr_expect_not(o.requeued);
  // Woken from inside after(), which may still be running on another M.
  while (after_calls.load() == 0) yield();
  return nullptr;
}

Test(parking, after_runs_once_queued_os_thread) {
  after_calls = after_found = 0;
  after_then_woken(nullptr);
  cr_expect_eq(after_calls.load(), 1);
  cr_expect_eq(after_found.load(), 1, "the waiter was queued when after() ran");
}

Test(parking, after_runs_once_queued_g, .init = start_runtime) {
  after_calls = after_found = 0;
  cr_assert_eq(run(after_then_woken, nullptr, nullptr), 0);
  cr_expect_eq(after_calls.load(), 1);
  cr_expect_eq(after_found.load(), 1, "the G was queued when after() ran on g0");
}

static void count_after(void*) { after_calls++; }

Test(parking, after_runs_when_park_returns_at_once) {
  after_calls = 0;
  park_opts o;
  o.after = count_after;
  q_word = 1;
  cr_expect(park(&q_word, q_word_zero, nullptr, 0, CLOCK_MONOTONIC, {}, false, &o) == park_result::invalid);
  q_word = 0;
  cr_expect(park(&q_word, q_word_zero, nullptr, 1, CLOCK_MONOTONIC, {}, false, &o) == park_result::timeout);
  cr_expect_eq(after_calls.load(), 2);
}

// Waiters that count themselves in their validation, which runs under the
// bucket lock in the same critical section as their queueing: once the
// count is n and we take that lock (any call on the address), n are queued.
static std::atomic<int> queued{0};
static bool count_queued(const void*, const void*) {
  queued++;
  return true;
}
static void wait_queued(int n) {
  while (queued.load() < n) usleep(1000);
}

// unpark_one_then reports under the bucket lock whether it dequeued one
// and whether waiters remain.
static std::atomic<int> lefts{0}, nones{0}, dequeued{0};
static void note_left(void*, int woke, bool left) {
  (left ? lefts : nones)++;
  dequeued += woke;
}

Test(parking, unpark_one_then_reports_what_is_left) {
  queued = 0;
  std::atomic<int> woken{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 2; i++)
    ts.emplace_back([&] {
      if (park(&q_word, count_queued, nullptr, 0, CLOCK_MONOTONIC) == park_result::woken) woken++;
    });
  wait_queued(2);
  cr_expect_eq(unpark_one_then(&q_word, note_left, nullptr), 1);
  cr_expect_eq(lefts.load(), 1, "one is left");
  cr_expect_eq(unpark_one_then(&q_word, note_left, nullptr), 1);
  cr_expect_eq(nones.load(), 1, "the last waiter leaves nobody");
  cr_expect_eq(unpark_one_then(&q_word, note_left, nullptr), 0);
  cr_expect_eq(nones.load(), 2, "called with an empty queue too");
  cr_expect_eq(dequeued.load(), 2, "reports each waiter it dequeued, and none for the empty queue");
  for (auto& t : ts) t.join();
  cr_expect_eq(woken.load(), 2);
}

// park_opts.front queues ahead of the waiters already there.
Test(parking, front_queues_first) {
  queued = 0;
  std::atomic<int> order[3] = {{-1}, {-1}, {-1}};
  std::atomic<int> next{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < 3; i++) {
    ts.emplace_back([&, i] {
      park_opts o;
      o.front = i == 2;
      park(&q_word, count_queued, nullptr, 0, CLOCK_MONOTONIC, {}, false, &o);
      order[next++] = i;
    });
    wait_queued(i + 1);
  }
  for (int i = 0; i < 3; i++) {
    cr_expect_eq(unpark_one(&q_word), 1);
    while (next.load() <= i) usleep(1000);
  }
  for (auto& t : ts) t.join();
  cr_expect_eq(order[0].load(), 2, "the front waiter first");
  cr_expect_eq(order[1].load(), 0);
  cr_expect_eq(order[2].load(), 1);
}

// requeue: FIFO, only waiters that allow the target, only if validate
// holds (and validate only when the first waiter vouches for the target).
static int q_from, q_to, q_other;
static std::atomic<int> validations{0};
static std::atomic<bool> allow_move{true};
static bool validate_to(const void* to, const void* ctx) {
  cr_expect_eq(to, (const void*)&q_to);
  cr_expect_eq(ctx, (const void*)&q_other);
  validations++;
  return allow_move.load();
}

struct qresult {
  park_result r = park_result::invalid;
  bool requeued = false;
  std::atomic<bool> done{false};
};

static void park_on_from(qresult* out, const void* requeue_to, int64_t deadline) {
  park_opts o;
  o.requeue_to = requeue_to;
  out->r = park(&q_from, count_queued, nullptr, deadline, CLOCK_MONOTONIC, {}, false, &o);
  out->requeued = o.requeued;
  out->done.store(true);
}

Test(parking, requeue_moves_in_order_and_stops_at_a_waiter_that_does_not_allow) {
  queued = 0;
  qresult r[4];
  std::vector<std::thread> ts;
  const void* allows[4] = {&q_to, &q_to, nullptr, &q_to};
  for (int i = 0; i < 4; i++) {
    ts.emplace_back(park_on_from, &r[i], allows[i], 0);
    wait_queued(i + 1);  // queued in this order
  }
  allow_move = false;
  cr_expect_eq(requeue(&q_from, &q_to, 10, validate_to, &q_other), 0, "validate said no");
  cr_expect_eq(validations.load(), 1);
  allow_move = true;
  cr_expect_eq(requeue(&q_from, &q_to, 1, validate_to, &q_other), 1, "n bounds the move");
  cr_expect_eq(requeue(&q_from, &q_to, 10, validate_to, &q_other), 1,
               "stops at the waiter that does not allow q_to");
  cr_expect_eq(validations.load(), 3);
  validations = 0;
  cr_expect_eq(requeue(&q_from, &q_other, 10, validate_to, &q_other), 0);
  cr_expect_eq(validations.load(), 0, "nobody vouches for q_other: not validated");
  for (auto& x : r) cr_expect_not(x.done.load(), "nobody woken yet");
  // q_from now holds waiters 2 and 3, q_to waiters 0 and 1, in order.
  cr_expect_eq(unpark_one(&q_to), 1);
  while (!r[0].done.load()) usleep(1000);
  cr_expect_not(r[1].done.load(), "FIFO on the new queue");
  cr_expect_eq(unpark_all(&q_from), 2);
  cr_expect_eq(unpark_all(&q_to), 1);
  for (auto& t : ts) t.join();
  bool moved[4] = {true, true, false, false};
  for (int i = 0; i < 4; i++) {
    cr_expect(r[i].r == park_result::woken, "waiter %d woken", i);
    cr_expect_eq(r[i].requeued, moved[i], "waiter %d requeued", i);
  }
}

// A requeued waiter's deadline no longer applies: its wait ended when it
// was moved; it now waits for an unpark of the new address. For an OS
// thread (futex timeout) and for a G (timer).
struct timed_waiter {
  qresult r;
  int64_t deadline;
};
static void* timed_wait_on_from(void* p) {
  auto* t = static_cast<timed_waiter*>(p);
  park_on_from(&t->r, &q_to, t->deadline);
  return nullptr;
}

static void* requeued_outlives_deadline(void* as_g) {
  for (int attempt = 0;; attempt++) {
    queued = 0;
    timed_waiter tw;
    tw.deadline = os::now_ns(CLOCK_MONOTONIC) + 200 * 1000000;
    std::thread os_waiter;
    pthread_t g_waiter;
    if (as_g)
      cr_assert_eq(thread_create(&g_waiter, thread_attr{}, timed_wait_on_from, &tw), 0);
    else
      os_waiter = std::thread(timed_wait_on_from, &tw);
    while (queued.load() < 1) as_g ? yield() : (void)usleep(1000);
    int moved = requeue(&q_from, &q_to, 1, nullptr, nullptr);
    if (moved == 1) {
      sleep_until(tw.deadline + 100 * 1000000, CLOCK_MONOTONIC);
      cr_expect_not(tw.r.done.load(), "still waiting after its deadline");
      cr_expect_eq(unpark_one(&q_to), 1);
    }
    if (as_g)
      cr_assert_eq(thread_join(g_waiter, nullptr, nullptr, CLOCK_REALTIME, false), 0);
    else
      os_waiter.join();
    if (moved == 1) {
      cr_expect(tw.r.r == park_result::woken);
      cr_expect(tw.r.requeued);
      return nullptr;
    }
    // We were descheduled past its deadline before moving it: try again.
    cr_assert(tw.r.r == park_result::timeout && attempt < 5, "requeue found no waiter");
  }
}

Test(parking, requeued_os_thread_ignores_its_deadline) { requeued_outlives_deadline(nullptr); }

Test(parking, requeued_g_ignores_its_deadline, .init = start_runtime) {
  cr_assert_eq(run(requeued_outlives_deadline, (void*)1, nullptr), 0);
}

// interrupt() finds an interruptible G in the queue it was moved to.
static qresult i_r;
static G* i_g;
static void* interruptible_on_from(void*) {
  i_g = getg();
  park_opts o;
  o.requeue_to = &q_to;
  i_r.r = park(&q_from, count_queued, nullptr, 0, CLOCK_MONOTONIC, {}, true, &o);
  i_r.requeued = o.requeued;
  i_r.done.store(true);
  i_g->intr.store(0);  // consumed
  return nullptr;
}

static void* interrupt_after_requeue(void*) {
  queued = 0;
  pthread_t t;
  cr_assert_eq(thread_create(&t, thread_attr{}, interruptible_on_from, nullptr), 0);
  while (queued.load() < 1) yield();
  cr_assert_eq(requeue(&q_from, &q_to, 1, nullptr, nullptr), 1);
  interrupt(i_g, INTR_SIGNAL);
  cr_assert_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false), 0);
  cr_expect(i_r.r == park_result::interrupted);
  cr_expect(i_r.requeued);
  cr_expect_eq(unpark_all(&q_to), 0, "it left the queue it was moved to");
  return nullptr;
}

Test(parking, interrupt_finds_a_requeued_g, .init = start_runtime, .timeout = 60) {
  cr_assert_eq(run(interrupt_after_requeue, nullptr, nullptr), 0);
}
