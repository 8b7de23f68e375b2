// Scheduler start/stop and thread lifecycle through core's API: many Gs,
// per-G errno and TLS across yields, join/detach errors, timed join.
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include "fixture.h"
#include "internal.h"
#include "os.h"

using namespace green;

static void start_runtime() { start_runtime_with(2); }
TestSuite(sched, .init = start_runtime);

Test(sched, start_twice_is_ebusy) {
  config cfg;
  cfg.os_thread_create = pthread_create;
  cr_expect_eq(start(cfg), EBUSY);
}

static std::atomic<int> counter{0};
static void* incr(void*) {
  counter++;
  return nullptr;
}
static void* spawn_1000(void*) {
  std::vector<pthread_t> ts(1000);
  for (auto& t : ts) cr_assert_eq(thread_create(&t, thread_attr{}, incr, nullptr), 0);
  for (auto& t : ts) cr_assert_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false), 0);
  return (void*)42;
}

Test(sched, run_many_gs_and_stop) {
  void* r = nullptr;
  cr_assert_eq(run(spawn_1000, nullptr, &r), 0);
  cr_expect_eq(counter.load(), 1000);
  cr_expect_eq(r, (void*)42);
  // The runtime is idle again: every M parked, every P idle.
  for (int i = 0; i < 200 && sched.npidle.load() != sched.nprocs; i++) usleep(1000);
  cr_expect_eq(sched.npidle.load(), sched.nprocs);
  cr_expect_eq(run(spawn_1000, nullptr, nullptr), 0, "and it runs again");
  cr_expect_eq(counter.load(), 2000);
}

static __thread long tls_value;
static std::atomic<int> migrations{0};
static void* keep_identity(void* arg) {
  long me = (long)arg;
  tls_value = me;
  errno = (int)me;
  pthread_t self = pthread_self();
  int tid = os::gettid();
  // At least 1000 yields, and on until some G was seen on another M: the
  // property needs a migration to mean anything, and on a loaded machine
  // the second M may take a while to be scheduled by the kernel.
  int64_t give_up = os::now_ns(CLOCK_MONOTONIC) + 20 * 1000000000L;
  for (int i = 0; i < 1000 || (migrations.load() == 0 && os::now_ns(CLOCK_MONOTONIC) < give_up);
       i++) {
    yield();
    if (i % 100 == 99)  // a short sleep: timers and steals move Gs between Ms
      sleep_until(os::now_ns(CLOCK_MONOTONIC) + 50000, CLOCK_MONOTONIC);
    cr_assert_eq(tls_value, me);
    cr_assert_eq(errno, (int)me);
    cr_assert_eq(pthread_self(), self);
    if (os::gettid() != tid) {
      migrations++;
      tid = os::gettid();
    }
  }
  return nullptr;
}
static void* identities(void*) {
  std::vector<pthread_t> ts(8);
  for (size_t i = 0; i < ts.size(); i++)
    cr_assert_eq(thread_create(&ts[i], thread_attr{}, keep_identity, (void*)(i + 100)), 0);
  for (auto& t : ts) thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false);
  return nullptr;
}

Test(sched, errno_tls_and_self_survive_migration) {
  cr_assert_eq(run(identities, nullptr, nullptr), 0);
  cr_expect_gt(migrations.load(), 0, "Gs moved between Ms at least once");
}

static void* sleeper(void* arg) {
  auto* flag = static_cast<std::atomic<int>*>(arg);
  while (!flag->load()) yield();
  return (void*)7;
}
static void* join_errors(void*) {
  pthread_t self = pthread_self();
  cr_expect_eq(thread_join(self, nullptr, nullptr, CLOCK_REALTIME, false), EDEADLK);
  std::atomic<int> flag{0};
  pthread_t t;
  cr_assert_eq(thread_create(&t, thread_attr{}, sleeper, &flag), 0);
  cr_expect_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, true), EBUSY);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_nsec += 20 * 1000000;
  if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
  cr_expect_eq(thread_join(t, nullptr, &ts, CLOCK_REALTIME, false), ETIMEDOUT);
  flag = 1;
  void* r;
  cr_expect_eq(thread_join(t, &r, nullptr, CLOCK_REALTIME, false), 0);
  cr_expect_eq(r, (void*)7);
  cr_expect_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false), ESRCH, "already joined");
  thread_attr detached;
  detached.detached = true;
  flag = 0;
  cr_assert_eq(thread_create(&t, detached, sleeper, &flag), 0);
  cr_expect_eq(thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false), EINVAL);
  cr_expect_eq(thread_detach(t), EINVAL);
  flag = 1;
  return nullptr;
}

Test(sched, join_and_detach_errors) { cr_assert_eq(run(join_errors, nullptr, nullptr), 0); }

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long total = 0;
static void* add(void*) {
  for (int i = 0; i < 10000; i++) {
    mutex_lock(&mu, nullptr, CLOCK_REALTIME);
    total++;
    mutex_unlock(&mu);
    if (i % 1000 == 0) yield();
  }
  return nullptr;
}
static void* mutex_sum(void*) {
  std::vector<pthread_t> ts(100);
  for (auto& t : ts) thread_create(&t, thread_attr{}, add, nullptr);
  for (auto& t : ts) thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false);
  return nullptr;
}

Test(sched, mutex_sum_is_exact) {
  cr_assert_eq(run(mutex_sum, nullptr, nullptr), 0);
  cr_expect_eq(total, 100L * 10000);
}

static int turn = 0;
static void* pinger(void* arg) {
  long me = (long)arg;
  for (int i = 0; i < 10000; i++) {
    mutex_lock(&mu, nullptr, CLOCK_REALTIME);
    while (turn != me) cond_wait(&cv, &mu, nullptr, false, CLOCK_REALTIME);
    turn = 1 - me;
    cond_signal(&cv);
    mutex_unlock(&mu);
  }
  return nullptr;
}
static void* pingpong(void*) {
  pthread_t a, b;
  thread_create(&a, thread_attr{}, pinger, (void*)0);
  thread_create(&b, thread_attr{}, pinger, (void*)1);
  thread_join(a, nullptr, nullptr, CLOCK_REALTIME, false);
  thread_join(b, nullptr, nullptr, CLOCK_REALTIME, false);
  return nullptr;
}

Test(sched, cond_pingpong_completes) { cr_assert_eq(run(pingpong, nullptr, nullptr), 0); }

static void* sleep_10ms(void*) {
  sleep_until(os::now_ns(CLOCK_MONOTONIC) + 10 * 1000000, CLOCK_MONOTONIC);
  return nullptr;
}
static void* many_sleepers(void*) {
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer allows 8128 threads alive, a G's fiber each, and each
  // costs ~800 KiB of its state: make tsan runs fewer.
  std::vector<pthread_t> ts(2000);
#else
  std::vector<pthread_t> ts(10000);
#endif
  for (auto& t : ts) thread_create(&t, thread_attr{}, sleep_10ms, nullptr);
  for (auto& t : ts) thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false);
  return nullptr;
}

// Regression: an M that idled its P before listing itself as idle let
// wakep start a redundant M; so did a timer M that unlisted itself while
// firing timers. A spare P lent by sysmon (an M seen blocked in the kernel
// outside libgreen: under make tsan, in ThreadSanitizer's own mmap calls)
// rightly gets an M of its own.
Test(sched, no_more_ms_than_ps_without_syscalls) {
  cr_assert_eq(run(many_sleepers, nullptr, nullptr), 0);
  uint64_t lent = stats.spares_lent.load();
  cr_expect_leq(stats.ms_created.load(), (uint64_t)sched.nprocs + lent,
                "Ms created: %lu (spares lent %lu)", (unsigned long)stats.ms_created.load(),
                (unsigned long)lent);
}

// Regression: glibc's fork unlinks THREAD_SELF from its list of threads in
// the child; a G's TCB had a zeroed list node and the child crashed.
static void* fork_from_g(void*) {
  pid_t pid = fork();
  if (pid == 0) _exit(7);
  int status = 0;
  waitpid(pid, &status, 0);
  return (void*)(long)status;
}

Test(sched, fork_from_a_g_child_runs) {
  void* status = nullptr;
  cr_assert_eq(run(fork_from_g, nullptr, &status), 0);
  cr_expect(WIFEXITED((int)(long)status), "child died: status %#x", (int)(long)status);
  cr_expect_eq(WEXITSTATUS((int)(long)status), 7);
}

// Regression: the child of a fork inherited run queues, timers and idle Ms
// of the parent's runtime and resurrected the parent's other Gs (their
// stacks are copied by fork). Only the forking G may run in the child.
static std::atomic<long> ticks{0};
static std::atomic<bool> ticking{true};
static void* ticker(void*) {
  while (ticking.load()) {
    ticks++;
    sleep_until(os::now_ns(CLOCK_MONOTONIC) + 1000000, CLOCK_MONOTONIC);
  }
  return nullptr;
}
static void* fork_with_others_running(void*) {
  std::vector<pthread_t> ts(8);
  for (auto& t : ts) thread_create(&t, thread_attr{}, ticker, nullptr);
  while (ticks.load() < 100) yield();
  pid_t pid = fork();
  if (pid == 0) {
    long before = ticks.load();
    sleep_until(os::now_ns(CLOCK_MONOTONIC) + 50 * 1000000, CLOCK_MONOTONIC);  // child's own timer
    _exit(ticks.load() == before ? 7 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ticking = false;
  for (auto& t : ts) thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false);
  return (void*)(long)status;
}

Test(sched, fork_child_runs_only_the_forking_g) {
  void* status = nullptr;
  cr_assert_eq(run(fork_with_others_running, nullptr, &status), 0);
  cr_expect(WIFEXITED((int)(long)status), "child died: status %#x", (int)(long)status);
  cr_expect_eq(WEXITSTATUS((int)(long)status), 7, "the parent's other Gs ran in the child");
}

// Regression: in a fork child glibc had put the surviving M's own stack in
// its stack cache (it only knows the G's TCB as alive), and the child's
// next pthread_create (sysmon here) ran on that same stack.
static int nested_fork(int depth) {
  pid_t pid = fork();
  if (pid == 0) {
    syscall_enter();  // starts sysmon: a new OS thread in the child
    os::syscall6(SYS_getppid);
    syscall_exit();
    pthread_t t;
    thread_create(&t, thread_attr{}, incr, nullptr);
    thread_join(t, nullptr, nullptr, CLOCK_REALTIME, false);
    _exit(depth > 0 ? nested_fork(depth - 1) : 7);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
static void* forks_in_children(void*) {
  syscall_enter();
  syscall_exit();
  return (void*)(long)nested_fork(3);
}

Test(sched, fork_children_can_make_threads_and_fork_again) {
  void* r = nullptr;
  cr_assert_eq(run(forks_in_children, nullptr, &r), 0);
  cr_expect_eq((long)r, 7);
}
