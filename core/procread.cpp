// Reads of /proc for libgreen itself, outside the program's descriptor
// table.
//
// sysmon looks at an M blocked in a syscall section (is it asleep in the
// kernel, or runnable?) and at an M stuck in a call libgreen did not make
// (/proc/self/task/TID/stat and syscall); deadlock detection counts the
// process's kernel threads (/proc/self/stat). Each read needs a descriptor,
// and an open() takes the lowest free number: made in the program's table,
// a program opening files meanwhile would now and then get a higher number
// than POSIX promises it. So a helper OS thread with a descriptor table of
// its own (unshare(CLONE_FILES), then every inherited copy closed) makes
// the reads, one request at a time.
//
// Invariants:
//  - The helper starts on the first read and stays; it holds no copy of
//    any descriptor of the program after its first instants (the copies
//    unshare made are closed before it reports ready).
//  - One request is in flight at a time (call_mu); req_seq/done_seq are
//    the futex words: a request is done when done_seq == its req_seq.
//  - If the helper cannot have a table of its own (unshare refused), reads
//    are made by the caller as before (state < 0).
//  - A fork child has no helper: the next read starts one.
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <new>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

struct request {
  const char* path;
  char* buf;
  int len;
  int result;
};

lock call_mu;
std::atomic<uint32_t> req_seq{0}, done_seq{0};
request* pending;
std::atomic<int> state{0};  // 0 none, 1 starting, 2 ready, -1 unavailable
lock start_mu;

void* helper_main(void*) {
  os::syscall6(SYS_prctl, PR_SET_NAME, (long)"green-proc");
  if (os::syscall6(SYS_unshare, CLONE_FILES) != 0) {
    state.store(-1, std::memory_order_release);
    os::futex_wake(&state, 1 << 30);
    return nullptr;
  }
  os::syscall6(SYS_close_range, 0, ~0U, 0);  // our copies of the program's files
  state.store(2, std::memory_order_release);
  os::futex_wake(&state, 1 << 30);
  for (;;) {
    uint32_t s = req_seq.load(std::memory_order_acquire);
    if (s == done_seq.load(std::memory_order_relaxed)) {
      os::futex_wait(&req_seq, s, nullptr);
      continue;
    }
    request* r = pending;
    r->result = os::read_file(r->path, r->buf, r->len);
    done_seq.store(s, std::memory_order_release);
    os::futex_wake(&done_seq, 1);
  }
}

// The helper is ready (true), or reads stay with the caller (false).
bool helper_ready() {
  int st = state.load(std::memory_order_acquire);
  if (st == 2) return true;
  if (st < 0) return false;
  {
    lock_guard l(start_mu);
    if (state.load(std::memory_order_relaxed) == 0) {
      state.store(1, std::memory_order_relaxed);
      if (start_os_thread(helper_main, nullptr) != 0) state.store(-1, std::memory_order_release);
    }
  }
  while ((st = state.load(std::memory_order_acquire)) == 1) os::futex_wait(&state, 1, nullptr);
  return st == 2;
}

}  // namespace

int proc_read(const char* path, char* buf, int len) {
  if (!helper_ready()) return os::read_file(path, buf, len);
  lock_guard l(call_mu);
  request r{path, buf, len, -EIO};
  pending = &r;
  uint32_t s = req_seq.load(std::memory_order_relaxed) + 1;
  req_seq.store(s, std::memory_order_release);
  os::futex_wake(&req_seq, 1);
  uint32_t d;
  while ((d = done_seq.load(std::memory_order_acquire)) != s) os::futex_wait(&done_seq, d, nullptr);
  return r.result;
}

char task_state(int tid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
  if (proc_read(path, buf, sizeof buf) <= 0) return 0;
  const char* paren = strrchr(buf, ')');  // comm may contain spaces and parentheses
  return paren && paren[1] == ' ' ? paren[2] : 0;
}

void procread_fork(fork_phase ph) {
  if (ph != fork_phase::child) return;  // a request in flight finishes in the parent
  new (&call_mu) lock();
  new (&start_mu) lock();
  req_seq.store(0, std::memory_order_relaxed);
  done_seq.store(0, std::memory_order_relaxed);
  if (state.load(std::memory_order_relaxed) != -1) state.store(0, std::memory_order_relaxed);
}

}  // namespace green
