// Diagnostics in core (diag.cpp, dump.cpp, deadlock.cpp): a thread dump
// lists each G with what it waits for and a backtrace naming the function
// that blocked; park records what and since when; the runtime's own OS
// threads are counted as the kernel counts them.
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <string>

#include "fixture.h"
#include "internal.h"
#include "os.h"
#include "../include/kthreads.h"

using namespace green;

static int threads_before_start;

static void start_runtime() {
  threads_before_start = kernel_threads();
  start_runtime_with(2);
}
TestSuite(diag, .init = start_runtime);

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;  // by holder, while it waits on cv
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static std::atomic<bool> release{false};

static __attribute__((noinline)) void* holder_fn(void*) {
  thread_setname(pthread_self(), "holder");
  cr_assert_eq(mutex_lock(&held, nullptr, CLOCK_REALTIME), 0);
  cr_assert_eq(mutex_lock(&mu, nullptr, CLOCK_REALTIME), 0);
  while (!release.load()) cond_wait(&cv, &mu, nullptr, false, CLOCK_REALTIME);
  mutex_unlock(&mu);
  mutex_unlock(&held);
  return nullptr;
}

static __attribute__((noinline)) void* locker_fn(void*) {
  thread_setname(pthread_self(), "locker");
  cr_assert_eq(mutex_lock(&held, nullptr, CLOCK_REALTIME), 0);
  mutex_unlock(&held);
  return nullptr;
}

static pthread_t holder;
static __attribute__((noinline)) void* joiner_fn(void*) {
  thread_setname(pthread_self(), "joiner");
  cr_assert_eq(thread_join(holder, nullptr, nullptr, CLOCK_REALTIME, false), 0);
  return nullptr;
}

static bool parked(pthread_t t, wait_kind k) {
  G* g = g_from_handle(t);
  return g && g->status.load() == gstatus::waiting && g->wait.load() == k;
}

static std::string dump_to_string() {
  int fd = memfd_create("dump", 0);
  cr_assert_geq(fd, 0);
  dump_threads(fd, "unit test dump");
  off_t len = lseek(fd, 0, SEEK_END);
  std::string s((size_t)len, '\0');
  cr_assert_eq(pread(fd, s.data(), s.size(), 0), len);
  close(fd);
  return s;
}

static bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

Test(diag, dump_names_waits_and_functions) {
  pthread_t locker, joiner;
  cr_assert_eq(thread_create(&holder, thread_attr{}, holder_fn, nullptr), 0);
  for (int i = 0; i < 5000 && !parked(holder, wait_kind::cond); i++) usleep(1000);
  cr_assert(parked(holder, wait_kind::cond));
  cr_assert_eq(thread_create(&locker, thread_attr{}, locker_fn, nullptr), 0);
  cr_assert_eq(thread_create(&joiner, thread_attr{}, joiner_fn, nullptr), 0);
  for (int i = 0; i < 5000 && !(parked(locker, wait_kind::mutex) && parked(joiner, wait_kind::join));
       i++)
    usleep(1000);
  cr_assert(parked(locker, wait_kind::mutex) && parked(joiner, wait_kind::join));
  G* h = g_from_handle(holder);
  cr_expect_gt(h->wait_since.load(), 0, "park recorded when");
  cr_expect_eq(h->wait_obj.load(), &cv, "and on what");

  std::string d = dump_to_string();
  char line[160];
  unsigned long hid = (unsigned long)h->id;
  cr_expect(contains(d, "libgreen: unit test dump\n"), "%s", d.c_str());
  snprintf(line, sizeof line, "thread %lu (holder): waiting ", hid);
  cr_expect(contains(d, line), "%s", d.c_str());
  snprintf(line, sizeof line, " s in pthread_cond_wait(%p)\n", (void*)&cv);
  cr_expect(contains(d, line), "%s", d.c_str());
  snprintf(line, sizeof line, " s in pthread_mutex_lock(%p), held by thread %lu\n", (void*)&held, hid);
  cr_expect(contains(d, line), "%s", d.c_str());
  snprintf(line, sizeof line, " s in pthread_join of thread %lu\n", hid);
  cr_expect(contains(d, line), "%s", d.c_str());
  for (const char* fn : {" in holder_fn(void*)+0x", " in locker_fn(void*)+0x", " in joiner_fn(void*)+0x"})
    cr_expect(contains(d, fn), "%s in %s", fn, d.c_str());
  cr_expect(!contains(d, "green::"), "libgreen's own frames are left out: %s", d.c_str());
  cr_expect(contains(d, "libgreen: end of thread dump\n"));

  release.store(true);
  mutex_lock(&mu, nullptr, CLOCK_REALTIME);
  cond_broadcast(&cv);
  mutex_unlock(&mu);
  cr_assert_eq(thread_join(joiner, nullptr, nullptr, CLOCK_REALTIME, false), 0);
  cr_assert_eq(thread_join(locker, nullptr, nullptr, CLOCK_REALTIME, false), 0);
}

static void* nothing(void*) { return nullptr; }
static void* spawn_some(void*) {
  pthread_t t[64];
  for (auto& x : t) cr_assert_eq(thread_create(&x, thread_attr{}, nothing, nullptr), 0);
  for (auto& x : t) cr_assert_eq(thread_join(x, nullptr, nullptr, CLOCK_REALTIME, false), 0);
  return nullptr;
}

// The kernel's count is ours plus the test's own threads, once the
// runtime's threads have settled (an M that ends leaves our count first).
Test(diag, runtime_threads_match_the_kernel) {
  cr_assert_eq(run(spawn_some, nullptr, nullptr), 0);
  cr_expect_gt(runtime_threads(), 0);
  bool match = false;
  for (int i = 0; i < 3000 && !match; i++) {
    match = kernel_threads() - threads_before_start == runtime_threads();
    if (!match) usleep(1000);
  }
  cr_expect(match, "kernel %d - %d before start, runtime %d", kernel_threads(),
            threads_before_start, runtime_threads());
}
