// Shared by the I/O shims (io.cpp, connect.cpp, splice.cpp, close.cpp):
// routing a call on a descriptor, and the wait-and-retry loops. The
// blocking ones are cancellation points (core/cancel.cpp): a due
// cancellation is acted on at entry (testcancel), while parked on the
// poller, and while blocked in the kernel (cancel_syscall).
//
// Every loop holds a pin (fd.h) for the whole call and uses p.fd() for
// each attempt, so a close/dup2 of the descriptor by another thread leaves
// the call on its old file, as a blocked system call would be. An attempt
// or a wait that fails with EBADF while p.fd() changed is retried on the
// new descriptor.
#pragma once
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <time.h>

#include "fd.h"
#include "shim.h"

namespace green::shim::io {

using green::shim::cancel_syscall;

template <typename F>
F next(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (!p) abort();
  return reinterpret_cast<F>(p);
}
#define REAL(name) static auto real_##name = green::shim::io::next<decltype(&::name)>(#name)

struct section {
  section() { green::syscall_enter(); }
  ~section() { green::syscall_exit(); }
};

inline int64_t mono_now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
inline int64_t deadline_after(int64_t ns) { return ns > 0 ? mono_now() + ns : 0; }

// pass: not on a G, or the application made fd non-blocking (it expects
// EAGAIN): the real call. file: regular files and the like, a syscall
// section. sock: MSG_DONTWAIT attempts and the netpoller. other: pollable
// non-sockets, readiness then the real call.
enum class how { pass, file, sock, other };

inline how route(int fd, fdinfo** out) {
  if (!green::on_green()) return how::pass;
  fdinfo* f = fd_classify(fd);
  *out = f;
  if (!f || f->nonblock.load(std::memory_order_relaxed)) return how::pass;
  switch (f->kind.load(std::memory_order_relaxed)) {
    case FD_SOCKET: return how::sock;
    case FD_POLLABLE: return how::other;
    default: return how::file;
  }
}

inline int64_t rcvtimeo(fdinfo* f) { return f ? f->rcvtimeo_ns.load(std::memory_order_relaxed) : 0; }
inline int64_t sndtimeo(fdinfo* f) { return f ? f->sndtimeo_ns.load(std::memory_order_relaxed) : 0; }

// Park until fd (p's current descriptor) has become ready for mode since
// seq was taken (green::netpoll_seq, before the attempt). 0: retry (also
// when the application closed or replaced fd meanwhile: p.fd() changed);
// 1: fd cannot be polled (the caller blocks in a syscall section); -1 with
// errno: give up (deadline -> EAGAIN, as SO_RCVTIMEO does; a signal
// handler ran -> EINTR). As Linux, a signal with SA_RESTART restarts the
// call unless the socket has a timeout.
inline int await(const pin& p, int fd, int mode, int64_t deadline, uint32_t seq) {
  int r = green::netpoll_wait(fd, mode, deadline, seq);
  if (r == 0 || (r == EBADF && p.fd() != fd)) return 0;
  if (r == EPERM) return 1;
  if (r == EINTR && green::testcancel_intr()) return 0;  // cancelled: unwound; stale: wait again
  if (r == EINTR && green::interrupted_restart() && deadline <= 0) return 0;
  errno = r == ETIMEDOUT ? EAGAIN : r;
  return -1;
}

// Whether fd is ready for events now. A poll a signal interrupted (EINTR
// even with timeout 0, when a signal is pending) says nothing: ask again.
// Another failure counts as ready, so the call itself reports the error.
inline bool ready_now(int fd, short events) {
  REAL(poll);
  struct pollfd p = {fd, events, 0};
  int saved = errno, r;
  while ((r = real_poll(&p, 1, 0)) < 0 && errno == EINTR) {}
  errno = saved;
  return r != 0;
}

// An attempt failed with EBADF because fd was closed under it: go on with
// the pin's new descriptor.
inline bool moved(const pin& p, int fd) { return errno == EBADF && p.fd() != fd; }

// Readiness for mode, then call(fd), a cancel_syscall (its own syscall
// section): losing a race to another reader costs a handoff, never a
// stalled P.
template <typename Call>
auto wait_then_call(pin& p, int mode, int64_t timeout_ns, Call call) -> decltype(call(0)) {
  int64_t deadline = deadline_after(timeout_ns);
  int saved = errno;  // a success leaves errno alone, as the real call does
  for (;;) {
    int fd = p.fd();
    uint32_t seq = green::netpoll_seq(fd, mode);
    if (!ready_now(fd, mode == green::POLL_READ ? POLLIN : POLLOUT)) {
      int w = await(p, fd, mode, deadline, seq);
      if (w < 0) return -1;
      if (w == 0) continue;
    }
    auto r = call(fd);
    if (r < 0 && moved(p, fd)) continue;
    if (r >= 0) errno = saved;
    return r;
  }
}

// A socket call with MSG_DONTWAIT semantics in attempt(fd), retried after
// readiness. drains: the attempt reads up to that many bytes of a plain
// TCP stream (0: anything else). Such a read that comes back short emptied
// the receive queue; until the next read edge the next read would only
// learn EAGAIN, so it parks without asking (a request-response server
// makes two system calls per request, not three).
template <typename Attempt>
ssize_t socket_loop(pin& p, int mode, int64_t timeout_ns, Attempt attempt, size_t drains = 0) {
  int64_t deadline = deadline_after(timeout_ns);
  int saved = errno;
  for (;;) {
    int fd = p.fd();
    uint32_t seq = green::netpoll_seq(fd, mode);
    bool known_empty = drains && green::netpoll_empty(fd, seq);
    ssize_t r = known_empty ? (errno = EAGAIN, -1) : attempt(fd);
    if (r >= 0) {
      if (drains && r > 0 && (size_t)r < drains) green::netpoll_drained(fd, seq);
      errno = saved;
      return r;
    }
    if (moved(p, fd)) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return r;
    int w = await(p, fd, mode, deadline, seq);
    if (w < 0) return -1;
    if (w == 1) {  // cannot poll this socket: block in a section
      section s;
      return attempt(fd);
    }
  }
}

}  // namespace green::shim::io
