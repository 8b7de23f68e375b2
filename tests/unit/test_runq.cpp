// Run queues: order, runnext, overflow into the global queue, and stealing
// under contention (every G taken exactly once).
#include <criterion/criterion.h>

#include <atomic>
#include <thread>
#include <vector>

#include "internal.h"

using namespace green;

static void setup() {
  sched.nprocs = 2;
  sched.runq_head = sched.runq_tail = nullptr;
  sched.runq_size = 0;
}

TestSuite(runq, .init = setup);

Test(runq, fifo_with_runnext_first) {
  P p{};
  std::vector<G> gs(3);
  runq_put(&p, &gs[0], false);
  runq_put(&p, &gs[1], false);
  runq_put(&p, &gs[2], true);
  cr_expect_eq(runq_get(&p), &gs[2]);
  cr_expect_eq(runq_get(&p), &gs[0]);
  cr_expect_eq(runq_get(&p), &gs[1]);
  cr_expect_null(runq_get(&p));
  cr_expect(runq_empty(&p));
}

Test(runq, new_runnext_kicks_old_to_tail) {
  P p{};
  std::vector<G> gs(2);
  runq_put(&p, &gs[0], true);
  runq_put(&p, &gs[1], true);
  cr_expect_eq(runq_get(&p), &gs[1]);
  cr_expect_eq(runq_get(&p), &gs[0]);
}

Test(runq, overflow_moves_half_to_global) {
  P p{};
  std::vector<G> gs(RUNQ_SIZE + 1);
  for (auto& g : gs) runq_put(&p, &g, false);
  cr_expect_eq(sched.runq_size.load(), (int)RUNQ_SIZE / 2 + 1);
  int local = 0;
  while (runq_get(&p)) local++;
  cr_expect_eq(local, (int)RUNQ_SIZE / 2);
  int global = 0;
  lock_guard l(sched.mu);
  while (sched.runq_head) {
    sched.runq_head = sched.runq_head->schedlink;
    global++;
  }
  cr_expect_eq(global, (int)RUNQ_SIZE / 2 + 1);
}

Test(runq, steal_takes_half) {
  P victim{}, thief{};
  std::vector<G> gs(10);
  for (auto& g : gs) runq_put(&victim, &g, false);
  G* g = runq_steal(&thief, &victim, false);
  cr_assert_not_null(g);
  int in_thief = 1;
  while (runq_get(&thief)) in_thief++;
  cr_expect_eq(in_thief, 5);
  int in_victim = 0;
  while (runq_get(&victim)) in_victim++;
  cr_expect_eq(in_victim, 5);
}

Test(runq, steal_under_contention_takes_each_g_once) {
  constexpr int N = 200000;
  std::vector<G> gs(N);
  std::vector<std::atomic<int>> taken(N);
  P owner{};
  P thieves[2]{};
  std::atomic<bool> done{false};
  auto mark = [&](G* g) {
    if (g) taken[g - gs.data()].fetch_add(1);
  };
  auto thief = [&](P* t) {
    while (!done.load() || !runq_empty(&owner)) {
      mark(runq_steal(t, &owner, true));
      while (G* g = runq_get(t)) mark(g);
    }
  };
  std::thread t1(thief, &thieves[0]), t2(thief, &thieves[1]);
  for (int i = 0; i < N; i++) {
    runq_put(&owner, &gs[i], i % 7 == 0);
    if (i % 3 == 0) mark(runq_get(&owner));
  }
  done = true;
  t1.join();
  t2.join();
  while (G* g = runq_get(&owner)) mark(g);
  {
    lock_guard l(sched.mu);
    for (G* g = sched.runq_head; g; g = g->schedlink) mark(g);
    sched.runq_head = sched.runq_tail = nullptr;
  }
  for (int i = 0; i < N; i++) cr_assert_eq(taken[i].load(), 1, "G %d taken %d times", i, taken[i].load());
}

// A running victim's runnext is taken only after a grace period during
// which it stayed the same G. One readied during the grace period (the
// victim switched to the old one and readied another: a hand-over pair at
// work) is fresh: the thief must not take it. A helper plays the victim's
// M, once per trial, a little after the thief started (~2 us, inside the
// ~10 us grace period unless it is descheduled; then the thief may rightly
// take the old G, or the fresh one if the thief itself was descheduled
// before its first look: rare, hence the bound below rather than zero).
// Before the fix the fresh G was taken in nearly every trial.
Test(runq, steal_never_takes_a_runnext_readied_during_the_grace_period) {
  constexpr int TRIALS = 500;
  P victim{}, thief{};
  M m{};
  victim.m = &m;  // running
  G old_g{}, fresh{};
  std::atomic<int> trial{-1}, acted{-1};
  std::thread helper([&] {  // the victim's M
    for (int i = 0; i < TRIALS; i++) {
      while (trial.load() != i) {
      }
      for (int k = 0; k < 50; k++) __builtin_ia32_pause();
      G* expect = &old_g;  // it runs old_g, which readies fresh
      if (victim.q.runnext.compare_exchange_strong(expect, nullptr)) runq_put(&victim, &fresh, true);
      acted.store(i);
    }
  });
  int fresh_stolen = 0, old_stolen = 0;
  for (int i = 0; i < TRIALS; i++) {
    victim.q.runnext.store(&old_g);
    trial.store(i);
    G* got = runq_steal(&thief, &victim, true);
    fresh_stolen += got == &fresh;
    old_stolen += got == &old_g;
    while (acted.load() != i) {
    }
  }
  helper.join();
  cr_expect_lt(fresh_stolen, TRIALS / 10,
               "a runnext readied during the grace period was stolen %d times of %d", fresh_stolen,
               TRIALS);
  cr_log_info("fresh runnext stolen %d, old one after its grace period %d, of %d", fresh_stolen,
              old_stolen, TRIALS);
}

// The same with a pair handing over back and forth during the grace
// period: runnext goes A -> (run) -> B -> (run) -> A again. That A is
// fresh too, although it is the G the thief first saw.
Test(runq, steal_never_takes_a_runnext_that_came_back_during_the_grace_period) {
  constexpr int TRIALS = 500;
  P victim{}, thief{};
  M m{};
  victim.m = &m;
  G a{}, b{};
  std::atomic<int> trial{-1}, acted{-1};
  std::atomic<bool> took_a{false};
  std::thread helper([&] {  // the victim's M
    for (int i = 0; i < TRIALS; i++) {
      while (trial.load() != i) {
      }
      for (int k = 0; k < 50; k++) __builtin_ia32_pause();
      G* expect = &a;
      bool took = victim.q.runnext.compare_exchange_strong(expect, nullptr);  // runs a
      if (took) {
        runq_put(&victim, &b, true);  // a readies b, parks
        expect = &b;
        victim.q.runnext.compare_exchange_strong(expect, nullptr);  // runs b
        runq_put(&victim, &a, true);  // b readies a, parks
      }
      took_a.store(took);
      acted.store(i);
    }
  });
  int fresh_stolen = 0;
  for (int i = 0; i < TRIALS; i++) {
    victim.q.runnext.store(&a);
    trial.store(i);
    G* got = runq_steal(&thief, &victim, true);
    while (acted.load() != i) {
    }
    fresh_stolen += got == &b || (got == &a && took_a.load());
  }
  helper.join();
  cr_expect_lt(fresh_stolen, TRIALS / 10, "a G readied during the grace period was stolen %d times of %d",
               fresh_stolen, TRIALS);
}
