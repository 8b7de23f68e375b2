// C++ and cancellation, as glibc does it: the cancelled thread unwinds with a
// forced unwind, so destructors of every frame run (innermost first,
// interleaved with pthread_cleanup_push handlers), catch(abi::__forced_unwind&)
// and catch(...) see it and must rethrow it, thread_local destructors run
// after the stack's, pthread_exit unwinds the same way, ordinary exceptions
// keep working (also inside destructors run by the unwinding), and a catch
// block that swallows the unwind aborts the process.
#include <cxxabi.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static std::string trace;
static void mark(const char* s) {
  pthread_mutex_lock(&mu);
  trace += s;
  pthread_mutex_unlock(&mu);
}

struct Guard {
  const char* name;
  explicit Guard(const char* n) : name(n) {}
  ~Guard() { mark(name); }
};

struct Tls {
  ~Tls() { mark("T"); }
  void touch() {}
};
static thread_local Tls tls;

static sem_t started;
static int pipefd[2];

static void handler(void* arg) { mark(static_cast<const char*>(arg)); }

static __attribute__((noinline)) void block_here() {
  Guard g("c");
  sem_post(&started);
  char b;
  ssize_t n = read(pipefd[0], &b, 1);  // cancelled here
  mark(n == 1 ? "!" : "?");
}

static __attribute__((noinline)) void middle() {
  Guard g("b");
  pthread_cleanup_push(handler, (void*)"h");
  try {
    block_here();
  } catch (abi::__forced_unwind&) {
    mark("F");
    throw;
  }
  pthread_cleanup_pop(0);
}

static void* worker(void*) {
  tls.touch();
  Guard g("a");
  try {
    middle();
  } catch (...) {
    mark("X");
    throw;
  }
  mark("!");
  return nullptr;
}

static void test_cancel_unwinds() {
  trace.clear();
  pthread_t t;
  void* r;
  pthread_create(&t, nullptr, worker, nullptr);
  sem_wait(&started);
  let_it_block();
  pthread_cancel(t);
  pthread_join(t, &r);
  CHECK(r == PTHREAD_CANCELED, "result %p", r);
  // innermost first: c (block_here), F (catch in middle, rethrown), h
  // (cleanup handler, destroyed after the catch), b, X (catch(...) in
  // worker), a, then the thread_local.
  CHECK(trace == "cFhbXaT", "order: %s", trace.c_str());
}

// ---- pthread_exit unwinds too ----
struct Thrower {
  ~Thrower() {
    try {
      throw std::runtime_error("inside a destructor run by the unwinder");
    } catch (std::exception&) {
      mark("e");
    }
  }
};

static __attribute__((noinline)) void exit_from_deep() {
  Guard g("2");
  Thrower th;
  pthread_exit((void*)7);
}

static void* exiter(void*) {
  Guard g("1");
  try {
    exit_from_deep();
  } catch (abi::__forced_unwind&) {
    mark("F");
    throw;
  }
  return nullptr;
}

static void test_exit_unwinds() {
  trace.clear();
  pthread_t t;
  void* r;
  pthread_create(&t, nullptr, exiter, nullptr);
  pthread_join(t, &r);
  CHECK(r == (void*)7, "result %p", r);
  CHECK(trace == "e2F1", "order: %s", trace.c_str());
}

// ---- ordinary exceptions in a thread that is cancelled later ----
static void* thrower(void*) {
  Guard g("z");
  for (int i = 0; i < 100; i++) {
    try {
      throw std::runtime_error("x");
    } catch (std::runtime_error&) {
    }
  }
  mark("y");
  sem_post(&started);
  for (;;) pause();
  return nullptr;
}

static void test_exceptions_then_cancel() {
  trace.clear();
  pthread_t t;
  void* r;
  pthread_create(&t, nullptr, thrower, nullptr);
  sem_wait(&started);
  let_it_block();
  pthread_cancel(t);
  pthread_join(t, &r);
  CHECK(r == PTHREAD_CANCELED && trace == "yz", "result %p, trace %s", r, trace.c_str());
}

// ---- a catch block that swallows the unwind: the process aborts ----
static void* swallower(void*) {
  try {
    sem_post(&started);
    for (;;) pause();
  } catch (...) {
    // not rethrown
  }
  return nullptr;
}

static void test_swallow_aborts() {
  fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(open("/dev/null", 1), 2);  // the fatal message is expected
    pthread_t t;
    pthread_create(&t, nullptr, swallower, nullptr);
    sem_wait(&started);
    let_it_block();
    pthread_cancel(t);
    pthread_join(t, nullptr);
    _exit(0);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "status %#x", st);
}

int main() {
  sem_init(&started, 0, 0);
  if (pipe(pipefd)) return 1;
  test_cancel_unwinds();
  test_exit_unwinds();
  test_exceptions_then_cancel();
  test_swallow_aborts();
  printf("%s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
