// I/O on pollable fds (sockets, pipes, FIFOs, terminals, eventfd, ...): a
// G that would block parks on the network poller and the call is retried.
//
// We never change O_NONBLOCK on the application's fds (the open file
// description may be shared with other processes). Instead:
//  - sockets: the call is made with MSG_DONTWAIT; EAGAIN -> wait -> retry;
//  - other pollable fds, accept: wait for readiness (poll with timeout 0,
//    then the poller), then make the real blocking call inside a syscall
//    section, so losing a race to another reader costs a handoff, never a
//    stalled P;
//  - regular files and block devices: the call runs in a syscall section;
//  - fds the application made non-blocking get the real call: it expects
//    EAGAIN.
// Blocking sockets keep their semantics: partial writes continue until all
// is sent, MSG_WAITALL collects everything, SO_RCVTIMEO/SO_SNDTIMEO give
// EAGAIN at the deadline, and close/dup2 of an fd someone waits on wakes
// that waiter with EBADF.
// Outside a G (g0, threads libgreen did not make, before start-up) every
// call is the real one.
// Every one of these calls is a cancellation point (core/cancel.cpp): a due
// cancellation is acted on at entry (testcancel), while parked on the
// poller, and while blocked in the kernel (cancel_syscall).
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

#include "shim.h"

namespace {

using green::shim::cancel_syscall;

template <typename F>
F next(const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (!p) abort();
  return reinterpret_cast<F>(p);
}
#define REAL(name) \
  static auto real_##name = next<decltype(&::name)>(#name)

struct section {
  section() { green::syscall_enter(); }
  ~section() { green::syscall_exit(); }
};

// ---- per-fd facts, learned lazily and kept up to date by our own
// close/dup2/fcntl/ioctl/setsockopt ----
enum : uint8_t { UNKNOWN, SOCKET, POLLABLE, FILE_LIKE };
struct fdinfo {
  std::atomic<uint8_t> kind;
  std::atomic<uint8_t> nonblock;
  std::atomic<int64_t> rcvtimeo_ns, sndtimeo_ns;
};
constexpr int BLOCK = 1024;
constexpr int NBLOCKS = 4096;
std::atomic<fdinfo*> fdtable[NBLOCKS];

fdinfo* info(int fd) {
  if (fd < 0 || fd / BLOCK >= NBLOCKS) return nullptr;
  std::atomic<fdinfo*>& slot = fdtable[fd / BLOCK];
  fdinfo* b = slot.load(std::memory_order_acquire);
  if (!b) {
    auto* fresh = static_cast<fdinfo*>(calloc(BLOCK, sizeof(fdinfo)));
    if (!fresh) return nullptr;
    if (!slot.compare_exchange_strong(b, fresh)) free(fresh);
    else b = fresh;
  }
  return &b[fd % BLOCK];
}

fdinfo* classify(int fd) {
  fdinfo* f = info(fd);
  if (!f) return nullptr;
  if (f->kind.load(std::memory_order_acquire) != UNKNOWN) return f;
  struct stat st;
  if (fstat(fd, &st) != 0) return nullptr;
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return nullptr;
  f->nonblock.store((fl & O_NONBLOCK) != 0, std::memory_order_relaxed);
  uint8_t k = S_ISSOCK(st.st_mode) ? SOCKET
              : (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) ? POLLABLE
                                                               : FILE_LIKE;
  f->kind.store(k, std::memory_order_release);
  return f;
}

void forget(int fd) {
  if (fdinfo* f = info(fd)) {
    f->kind.store(UNKNOWN, std::memory_order_release);
    f->rcvtimeo_ns.store(0, std::memory_order_relaxed);
    f->sndtimeo_ns.store(0, std::memory_order_relaxed);
  }
}

int64_t mono_now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t deadline_after(int64_t ns) { return ns > 0 ? mono_now() + ns : 0; }

// Wait for mode; -1 with errno set when the caller must give up (timeout
// -> EAGAIN as SO_RCVTIMEO does, closed -> EBADF, a signal handler ran ->
// EINTR), 0 to retry, 1 when fd cannot be polled (caller falls back to a
// syscall section). As Linux, a signal with SA_RESTART restarts the call
// unless the socket has a timeout.
int await(int fd, int mode, int64_t deadline) {
  int r = green::netpoll_wait(fd, mode, deadline);
  if (r == 0) return 0;
  if (r == EPERM) return 1;
  if (r == EINTR && green::testcancel_intr()) return 0;  // cancelled: unwound; stale: wait again
  if (r == EINTR && green::interrupted_restart() && deadline <= 0) return 0;
  errno = r == ETIMEDOUT ? EAGAIN : r;
  return -1;
}

bool ready_now(int fd, short events) {
  REAL(poll);
  struct pollfd p = {fd, events, 0};
  return real_poll(&p, 1, 0) != 0;
}

// Readiness-then-real-call for non-socket pollable fds (and accept).
template <typename Call>
auto wait_then_call(int fd, int mode, int64_t timeout_ns, Call call) -> decltype(call()) {
  int64_t deadline = deadline_after(timeout_ns);
  for (;;) {
    if (ready_now(fd, mode == green::POLL_READ ? POLLIN : POLLOUT)) break;
    int w = await(fd, mode, deadline);
    if (w < 0) return -1;
    if (w == 1) break;
  }
  return call();  // a cancel_syscall: its own section
}

// Socket call with MSG_DONTWAIT semantics in `attempt`; retried after
// readiness. attempt returns the call's result.
template <typename Attempt>
ssize_t socket_loop(int fd, int mode, int64_t timeout_ns, Attempt attempt) {
  int64_t deadline = deadline_after(timeout_ns);
  for (;;) {
    ssize_t r = attempt();
    if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return r;
    int w = await(fd, mode, deadline);
    if (w < 0) return -1;
    if (w == 1) {  // cannot poll this socket: block in a section
      section s;
      return attempt();
    }
  }
}

enum class how { pass, file, sock, other };

how route(int fd, fdinfo** out) {
  if (!green::on_green()) return how::pass;
  fdinfo* f = classify(fd);
  *out = f;
  if (!f || f->nonblock.load(std::memory_order_relaxed)) return how::pass;
  switch (f->kind.load(std::memory_order_relaxed)) {
    case SOCKET: return how::sock;
    case POLLABLE: return how::other;
    default: return how::file;
  }
}

int64_t rcvtimeo(fdinfo* f) { return f ? f->rcvtimeo_ns.load(std::memory_order_relaxed) : 0; }
int64_t sndtimeo(fdinfo* f) { return f ? f->sndtimeo_ns.load(std::memory_order_relaxed) : 0; }

// Send all of [buf, buf+n) on a blocking socket, as the kernel would.
ssize_t send_all(int fd, const char* buf, size_t n, int flags, fdinfo* f) {
  REAL(send);
  size_t done = 0;
  while (done < n || n == 0) {
    ssize_t r = socket_loop(fd, green::POLL_WRITE, sndtimeo(f), [&] {
      return real_send(fd, buf + done, n - done, flags | MSG_DONTWAIT);
    });
    if (r < 0) return done ? (ssize_t)done : -1;
    done += (size_t)r;
    if (n == 0) break;
  }
  return (ssize_t)done;
}

}  // namespace

// ---- read side ----
GREEN_EXPORT ssize_t read(int fd, void* buf, size_t n) {
  REAL(read);
  REAL(recv);
  green::testcancel();
  fdinfo* f = nullptr;
  switch (route(fd, &f)) {
    case how::pass: return real_read(fd, buf, n);
    case how::file: return cancel_syscall(SYS_read, fd, (long)buf, (long)n);
    case how::sock:
      return socket_loop(fd, green::POLL_READ, rcvtimeo(f),
                         [&] { return real_recv(fd, buf, n, MSG_DONTWAIT); });
    case how::other: break;
  }
  return wait_then_call(fd, green::POLL_READ, 0,
                        [&] { return cancel_syscall(SYS_read, fd, (long)buf, (long)n); });
}

GREEN_EXPORT ssize_t readv(int fd, const struct iovec* iov, int cnt) {
  REAL(readv);
  REAL(recvmsg);
  green::testcancel();
  fdinfo* f = nullptr;
  switch (route(fd, &f)) {
    case how::pass: return real_readv(fd, iov, cnt);
    case how::file: return cancel_syscall(SYS_readv, fd, (long)iov, cnt);
    case how::sock: {
      struct msghdr m = {};
      m.msg_iov = const_cast<struct iovec*>(iov);
      m.msg_iovlen = (size_t)cnt;
      return socket_loop(fd, green::POLL_READ, rcvtimeo(f),
                         [&] { return real_recvmsg(fd, &m, MSG_DONTWAIT); });
    }
    case how::other: break;
  }
  return wait_then_call(fd, green::POLL_READ, 0,
                        [&] { return cancel_syscall(SYS_readv, fd, (long)iov, cnt); });
}

GREEN_EXPORT ssize_t recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* a,
                              socklen_t* al) {
  REAL(recvfrom);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h != how::sock || (flags & MSG_DONTWAIT)) {
    if (h == how::pass || (flags & MSG_DONTWAIT)) return real_recvfrom(fd, buf, n, flags, a, al);
    section s;
    return real_recvfrom(fd, buf, n, flags, a, al);
  }
  if (!(flags & MSG_WAITALL) || n == 0)
    return socket_loop(fd, green::POLL_READ, rcvtimeo(f), [&] {
      return real_recvfrom(fd, buf, n, flags | MSG_DONTWAIT, a, al);
    });
  size_t got = 0;  // MSG_WAITALL: everything, or EOF/error/timeout
  while (got < n) {
    ssize_t r = socket_loop(fd, green::POLL_READ, rcvtimeo(f), [&] {
      return real_recvfrom(fd, (char*)buf + got, n - got, (flags & ~MSG_WAITALL) | MSG_DONTWAIT,
                           a, al);
    });
    if (r < 0) return got ? (ssize_t)got : -1;
    if (r == 0) break;
    got += (size_t)r;
  }
  return (ssize_t)got;
}

GREEN_EXPORT ssize_t recv(int fd, void* buf, size_t n, int flags) {
  return recvfrom(fd, buf, n, flags, nullptr, nullptr);
}

GREEN_EXPORT ssize_t recvmsg(int fd, struct msghdr* m, int flags) {
  REAL(recvmsg);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT)) return real_recvmsg(fd, m, flags);
  if (h != how::sock) { section s; return real_recvmsg(fd, m, flags); }
  return socket_loop(fd, green::POLL_READ, rcvtimeo(f),
                     [&] { return real_recvmsg(fd, m, flags | MSG_DONTWAIT); });
}

GREEN_EXPORT int recvmmsg(int fd, struct mmsghdr* v, unsigned int n, int flags,
                          struct timespec* timeout) {
  REAL(recvmmsg);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT) || timeout) {
    if (h == how::pass || (flags & MSG_DONTWAIT)) return real_recvmmsg(fd, v, n, flags, timeout);
    section s;
    return real_recvmmsg(fd, v, n, flags, timeout);
  }
  if (h != how::sock) { section s; return real_recvmmsg(fd, v, n, flags, timeout); }
  return (int)socket_loop(fd, green::POLL_READ, rcvtimeo(f),
                          [&] { return (ssize_t)real_recvmmsg(fd, v, n, flags | MSG_DONTWAIT, nullptr); });
}

// ---- write side ----
GREEN_EXPORT ssize_t write(int fd, const void* buf, size_t n) {
  REAL(write);
  green::testcancel();
  fdinfo* f = nullptr;
  switch (route(fd, &f)) {
    case how::pass: return real_write(fd, buf, n);
    case how::file: return cancel_syscall(SYS_write, fd, (long)buf, (long)n);
    case how::sock: return send_all(fd, static_cast<const char*>(buf), n, 0, f);
    case how::other: break;
  }
  return wait_then_call(fd, green::POLL_WRITE, 0,
                        [&] { return cancel_syscall(SYS_write, fd, (long)buf, (long)n); });
}

GREEN_EXPORT ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  REAL(writev);
  green::testcancel();
  fdinfo* f = nullptr;
  auto call = [&] { return cancel_syscall(SYS_writev, fd, (long)iov, cnt); };
  switch (route(fd, &f)) {
    case how::pass: return real_writev(fd, iov, cnt);
    case how::file: return call();
    case how::sock: break;  // rare on sockets; the blocking call in a section is exact
    case how::other: return wait_then_call(fd, green::POLL_WRITE, 0, call);
  }
  return wait_then_call(fd, green::POLL_WRITE, sndtimeo(f), call);
}

GREEN_EXPORT ssize_t sendto(int fd, const void* buf, size_t n, int flags,
                            const struct sockaddr* a, socklen_t al) {
  REAL(sendto);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT)) return real_sendto(fd, buf, n, flags, a, al);
  if (h != how::sock) { section s; return real_sendto(fd, buf, n, flags, a, al); }
  if (!a) return send_all(fd, static_cast<const char*>(buf), n, flags, f);
  return socket_loop(fd, green::POLL_WRITE, sndtimeo(f),
                     [&] { return real_sendto(fd, buf, n, flags | MSG_DONTWAIT, a, al); });
}

GREEN_EXPORT ssize_t send(int fd, const void* buf, size_t n, int flags) {
  return sendto(fd, buf, n, flags, nullptr, 0);
}

GREEN_EXPORT ssize_t sendmsg(int fd, const struct msghdr* m, int flags) {
  REAL(sendmsg);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT)) return real_sendmsg(fd, m, flags);
  if (h != how::sock) { section s; return real_sendmsg(fd, m, flags); }
  // Wait until writable, then the real blocking call: exact partial-write
  // semantics for any iovec shape.
  return wait_then_call(fd, green::POLL_WRITE, sndtimeo(f), [&] {
    return cancel_syscall(SYS_sendmsg, fd, (long)m, flags);
  });
}

GREEN_EXPORT int sendmmsg(int fd, struct mmsghdr* v, unsigned int n, int flags) {
  REAL(sendmmsg);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT)) return real_sendmmsg(fd, v, n, flags);
  return (int)wait_then_call(fd, green::POLL_WRITE, sndtimeo(f),
                             [&] { return cancel_syscall(SYS_sendmmsg, fd, (long)v, n, flags); });
}

// ---- connections ----
GREEN_EXPORT int accept4(int fd, struct sockaddr* a, socklen_t* al, int flags) {
  REAL(accept4);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass) return real_accept4(fd, a, al, flags);
  if (h == how::file) { section s; return real_accept4(fd, a, al, flags); }
  return (int)wait_then_call(fd, green::POLL_READ, rcvtimeo(f), [&] {
    return cancel_syscall(SYS_accept4, fd, (long)a, (long)al, flags);
  });
}

GREEN_EXPORT int accept(int fd, struct sockaddr* a, socklen_t* al) { return accept4(fd, a, al, 0); }

GREEN_EXPORT int connect(int fd, const struct sockaddr* a, socklen_t al) {
  REAL(connect);
  green::testcancel();
  fdinfo* f = nullptr;
  if (route(fd, &f) == how::pass) return real_connect(fd, a, al);
  // A blocking connect completes in the kernel; a handoff covers it.
  return (int)cancel_syscall(SYS_connect, fd, (long)a, al);
}

// ---- fd lifetime and flags ----
GREEN_EXPORT int close(int fd) {
  REAL(close);
  green::testcancel();
  green::netpoll_close(fd);
  fdinfo* f = info(fd);
  uint8_t kind = f ? f->kind.load(std::memory_order_relaxed) : (uint8_t)UNKNOWN;
  forget(fd);
  if (!green::on_green()) return real_close(fd);
  bool may_block = kind == FILE_LIKE || kind == UNKNOWN;  // NFS, slow devices
  if (kind == SOCKET) {  // only a lingering socket blocks in close
    struct linger l = {};
    socklen_t len = sizeof l;
    may_block = getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) == 0 && l.l_onoff;
  }
  if (!may_block) return real_close(fd);
  section s;
  return real_close(fd);
}

GREEN_EXPORT int dup2(int old, int nfd) {
  REAL(dup2);
  if (old != nfd) {
    green::netpoll_close(nfd);
    forget(nfd);
  }
  return real_dup2(old, nfd);
}

GREEN_EXPORT int dup3(int old, int nfd, int flags) {
  REAL(dup3);
  green::netpoll_close(nfd);
  forget(nfd);
  return real_dup3(old, nfd, flags);
}

GREEN_EXPORT int setsockopt(int fd, int level, int opt, const void* val, socklen_t len) {
  REAL(setsockopt);
  int r = real_setsockopt(fd, level, opt, val, len);
  if (r == 0 && level == SOL_SOCKET && (opt == SO_RCVTIMEO || opt == SO_SNDTIMEO) &&
      len >= sizeof(struct timeval)) {
    auto* tv = static_cast<const struct timeval*>(val);
    int64_t ns = (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
    if (fdinfo* f = info(fd)) (opt == SO_RCVTIMEO ? f->rcvtimeo_ns : f->sndtimeo_ns).store(ns);
  }
  return r;
}

namespace green::shim {
void fd_set_nonblock(int fd, bool on) {
  if (fdinfo* f = info(fd)) f->nonblock.store(on, std::memory_order_relaxed);
}
}  // namespace green::shim

// ---- waiting for many fds ----
namespace {

// Block until one of fds may be ready or the deadline passes, using a
// private epoll instance the poller watches. Returns 0 on timeout, 1 when
// something may be ready, -1 with errno EINTR when a signal handler ran
// (poll and select are never restarted).
int wait_any(const struct pollfd* fds, nfds_t n, int64_t deadline) {
  REAL(close);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return 1;  // let the caller's real call decide
  for (nfds_t i = 0; i < n; i++) {
    if (fds[i].fd < 0) continue;
    struct epoll_event e = {};
    if (fds[i].events & (POLLIN | POLLRDNORM)) e.events |= EPOLLIN;
    if (fds[i].events & (POLLOUT | POLLWRNORM)) e.events |= EPOLLOUT;
    if (fds[i].events & POLLPRI) e.events |= EPOLLPRI;
    if (fds[i].events & POLLRDHUP) e.events |= EPOLLRDHUP;
    e.data.fd = fds[i].fd;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fds[i].fd, &e) != 0 && errno == EEXIST) {
      epoll_ctl(ep, EPOLL_CTL_MOD, fds[i].fd, &e);  // duplicate fd entries: last wins,
    }                                                // the final real poll is exact
  }
  int r = green::netpoll_wait(ep, green::POLL_READ, deadline);
  green::netpoll_close(ep);
  real_close(ep);
  if (r == EINTR) {
    if (green::testcancel_intr()) return 1;  // cancelled: unwound; stale: poll again
    green::interrupted_restart();
    errno = EINTR;
    return -1;
  }
  return r != ETIMEDOUT;
}

int64_t ts_deadline(const struct timespec* ts) {
  return ts ? mono_now() + (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec : 0;
}

// The poll/select sleep idiom: 0, or -1 with EINTR after a signal handler.
int sleep_to(int64_t deadline) {
  while (green::sleep_until(deadline > 0 ? deadline : INT64_MAX, CLOCK_MONOTONIC) != 0) {
    if (green::testcancel_intr()) continue;  // cancelled: unwound; stale: sleep on
    green::interrupted_restart();
    errno = EINTR;
    return -1;
  }
  return 0;
}

}  // namespace

GREEN_EXPORT int ppoll(struct pollfd* fds, nfds_t n, const struct timespec* ts, const sigset_t* mask) {
  REAL(ppoll);
  green::testcancel();
  static const struct timespec zero = {0, 0};
  if (!green::on_green()) return real_ppoll(fds, n, ts, mask);
  if (ts && (ts->tv_nsec < 0 || ts->tv_nsec >= 1000000000 || ts->tv_sec < 0)) {
    errno = EINVAL;
    return -1;
  }
  int64_t deadline = ts_deadline(ts);
  if (n == 0) return sleep_to(deadline);  // the sleep idiom
  for (;;) {
    int r = real_ppoll(fds, n, &zero, mask);
    if (r != 0 || (ts && ts->tv_sec == 0 && ts->tv_nsec == 0)) return r;
    int w = wait_any(fds, n, deadline);
    if (w < 0) return -1;
    if (w == 0) return real_ppoll(fds, n, &zero, mask);
  }
}

GREEN_EXPORT int poll(struct pollfd* fds, nfds_t n, int timeout_ms) {
  REAL(poll);
  if (!green::on_green()) return real_poll(fds, n, timeout_ms);
  if (timeout_ms < 0) return ppoll(fds, n, nullptr, nullptr);
  struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
  return ppoll(fds, n, &ts, nullptr);
}

GREEN_EXPORT int pselect(int nfds, fd_set* r, fd_set* w, fd_set* e, const struct timespec* ts,
                         const sigset_t* mask) {
  REAL(pselect);
  green::testcancel();
  static const struct timespec zero = {0, 0};
  if (!green::on_green() || nfds < 0 || nfds > FD_SETSIZE) return real_pselect(nfds, r, w, e, ts, mask);
  int64_t deadline = ts_deadline(ts);
  if (nfds == 0 || (!r && !w && !e)) return sleep_to(deadline);  // the sleep idiom
  fd_set r0, w0, e0;
  if (r) r0 = *r;
  if (w) w0 = *w;
  if (e) e0 = *e;
  struct pollfd* fds = static_cast<struct pollfd*>(alloca(sizeof(struct pollfd) * (size_t)nfds));
  nfds_t n = 0;
  for (int fd = 0; fd < nfds; fd++) {
    short ev = (short)((r && FD_ISSET(fd, &r0) ? POLLIN : 0) | (w && FD_ISSET(fd, &w0) ? POLLOUT : 0) |
                       (e && FD_ISSET(fd, &e0) ? POLLPRI : 0));
    if (ev) fds[n++] = pollfd{fd, ev, 0};
  }
  for (;;) {
    if (r) *r = r0;
    if (w) *w = w0;
    if (e) *e = e0;
    int res = real_pselect(nfds, r, w, e, &zero, mask);
    if (res != 0 || (ts && ts->tv_sec == 0 && ts->tv_nsec == 0)) return res;
    int got = wait_any(fds, n, deadline);
    if (got < 0) return -1;
    if (got == 0) {
      if (r) *r = r0;
      if (w) *w = w0;
      if (e) *e = e0;
      return real_pselect(nfds, r, w, e, &zero, mask);
    }
  }
}

GREEN_EXPORT int select(int nfds, fd_set* r, fd_set* w, fd_set* e, struct timeval* tv) {
  REAL(select);
  if (!green::on_green()) return real_select(nfds, r, w, e, tv);
  if (tv && (tv->tv_usec < 0 || tv->tv_usec >= 1000000 || tv->tv_sec < 0)) {
    errno = EINVAL;
    return -1;
  }
  struct timespec ts;
  if (tv) ts = {tv->tv_sec, tv->tv_usec * 1000};
  int res = pselect(nfds, r, w, e, tv ? &ts : nullptr, nullptr);
  if (tv && res >= 0) *tv = {0, 0};  // Linux reports the time not slept
  return res;
}

GREEN_EXPORT int epoll_pwait2(int ep, struct epoll_event* ev, int max, const struct timespec* ts,
                              const sigset_t* mask) {
  REAL(epoll_pwait2);
  green::testcancel();
  static const struct timespec zero = {0, 0};
  if (!green::on_green()) return real_epoll_pwait2(ep, ev, max, ts, mask);
  int64_t deadline = ts_deadline(ts);
  for (;;) {
    int r = real_epoll_pwait2(ep, ev, max, &zero, mask);
    if (r != 0 || (ts && ts->tv_sec == 0 && ts->tv_nsec == 0)) return r;
    int w = green::netpoll_wait(ep, green::POLL_READ, deadline);  // the app's epoll is pollable
    if (w == ETIMEDOUT) return 0;
    if (w == EINTR) {  // never restarted, as Linux
      if (green::testcancel_intr()) continue;  // cancelled: unwound; stale: wait again
      green::interrupted_restart();
      errno = EINTR;
      return -1;
    }
    if (w == EBADF || w == EPERM) {
      section s;
      return real_epoll_pwait2(ep, ev, max, ts, mask);
    }
  }
}

GREEN_EXPORT int epoll_pwait(int ep, struct epoll_event* ev, int max, int timeout_ms,
                             const sigset_t* mask) {
  REAL(epoll_pwait);
  if (!green::on_green()) return real_epoll_pwait(ep, ev, max, timeout_ms, mask);
  struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
  return epoll_pwait2(ep, ev, max, timeout_ms < 0 ? nullptr : &ts, mask);
}

GREEN_EXPORT int epoll_wait(int ep, struct epoll_event* ev, int max, int timeout_ms) {
  return epoll_pwait(ep, ev, max, timeout_ms, nullptr);
}
