// Syscall sections: a G blocked in the kernel inside syscall_enter/exit must
// not stop the other Gs of its P (sysmon retakes the P and hands it to
// another M); short sections come back to their own P; errno survives.
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>

#include <atomic>
#include <vector>

#include "fixture.h"
#include "internal.h"
#include "os.h"

using namespace green;

static void start_one_p() { start_runtime_with(1); }
TestSuite(syscall, .init = start_one_p);

static std::atomic<bool> stop{false};
static std::atomic<long> counter{0};

static void* count(void*) {
  while (!stop.load()) {
    counter++;
    yield();
  }
  return nullptr;
}

static void kernel_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  while (os::syscall6(SYS_nanosleep, (long)&ts, (long)&ts) == -EINTR) {
  }
}

static void* block_in_kernel(void* arg) {
  long ms = (long)arg;
  long before = counter.load();
  syscall_enter();
  kernel_sleep_ms(ms);
  syscall_exit();
  return (void*)(counter.load() - before);
}

static void* one_blocker(void*) {
  pthread_t counter_g, blocker;
  thread_create(&counter_g, thread_attr{}, count, nullptr);
  yield();  // let the counter start
  thread_create(&blocker, thread_attr{}, block_in_kernel, (void*)300L);
  void* progressed;
  thread_join(blocker, &progressed, nullptr, CLOCK_REALTIME, false);
  stop = true;
  thread_join(counter_g, nullptr, nullptr, CLOCK_REALTIME, false);
  return progressed;
}

Test(syscall, blocked_g_does_not_stop_its_p) {
  void* progressed = nullptr;
  cr_assert_eq(run(one_blocker, nullptr, &progressed), 0);
  cr_expect_gt((long)progressed, 0, "the counter G ran while the other G was in the kernel");
  cr_expect_geq(stats.handoffs.load(), 1u, "sysmon handed the P to another M");
}

static void* many_blockers(void*) {
  pthread_t counter_g;
  thread_create(&counter_g, thread_attr{}, count, nullptr);
  std::vector<pthread_t> bs(8);
  for (auto& b : bs) thread_create(&b, thread_attr{}, block_in_kernel, (void*)100L);
  long total = 0;
  for (auto& b : bs) {
    void* r;
    thread_join(b, &r, nullptr, CLOCK_REALTIME, false);
    total += (long)r;
  }
  stop = true;
  thread_join(counter_g, nullptr, nullptr, CLOCK_REALTIME, false);
  return (void*)total;
}

Test(syscall, many_blocked_gs_all_return) {
  void* total = nullptr;
  cr_assert_eq(run(many_blockers, nullptr, &total), 0);
  cr_expect_gt((long)total, 0);
}

static void* short_sections(void*) {
  int tid = os::gettid();
  for (int i = 0; i < 10000; i++) {
    errno = 1234;
    syscall_enter();
    os::syscall6(SYS_getppid);
    syscall_exit();
    cr_assert_eq(errno, 1234, "errno is preserved across a syscall section");
  }
  return (void*)(long)(os::gettid() == tid);
}

Test(syscall, short_sections_keep_their_p_and_errno) {
  void* same_m = nullptr;
  cr_assert_eq(run(short_sections, nullptr, &same_m), 0);
  cr_expect_eq(stats.syscalls.load(), 10000u);
}

// Ms made for handoffs end after being idle a while: the kernel's thread
// count comes back down.
Test(syscall, idle_ms_go_away) {
  cr_assert_eq(run(many_blockers, nullptr, nullptr), 0);
  cr_expect_gt(stats.ms_created.load(), 1u, "handoffs needed extra Ms");
  for (int i = 0; i < 50 && sched.mcount.load() > sched.nprocs; i++) usleep(100000);
  cr_expect_leq(sched.mcount.load(), sched.nprocs, "Ms alive: %d", sched.mcount.load());
}
