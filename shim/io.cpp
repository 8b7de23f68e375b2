// I/O on pollable fds (sockets, pipes, FIFOs, terminals, eventfd, ...): a
// G that would block parks on the network poller and the call is retried.
//
// We never change O_NONBLOCK on the application's fds (the open file
// description may be shared with other processes; connect.cpp explains
// its one exception). Instead:
//  - sockets: the call is made with MSG_DONTWAIT; EAGAIN -> wait -> retry;
//  - other pollable fds, accept: wait for readiness (poll with timeout 0,
//    then the poller), then make the real blocking call inside a syscall
//    section, so losing a race to another reader costs a handoff, never a
//    stalled P;
//  - regular files and block devices: the call runs in a syscall section;
//  - fds the application made non-blocking get the real call: it expects
//    EAGAIN.
// Every one of these calls is a cancellation point (see io.h).
// Blocking sockets keep their semantics: partial writes continue until all
// is sent, MSG_WAITALL collects everything, SO_RCVTIMEO/SO_SNDTIMEO give
// EAGAIN at the deadline, and a call blocked on an fd another thread
// closes or replaces stays on its file, as on Linux (fd.h, close.cpp).
// Outside a G (g0, threads libgreen did not make, before start-up) every
// call is the real one.
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <new>

#include "io.h"

using namespace green::shim;
using namespace green::shim::io;

namespace {

// A call that transferred something before an error reports the count and
// leaves errno alone, as the kernel does.
ssize_t partial(size_t done, int saved) {
  if (!done) return -1;
  errno = saved;
  return (ssize_t)done;
}

// Send all of [buf, buf+n) on a blocking socket, as the kernel would.
ssize_t send_all(pin& p, const char* buf, size_t n, int flags, fdinfo* f) {
  REAL(send);
  int saved = errno;
  size_t done = 0;
  while (done < n || n == 0) {
    ssize_t r = socket_loop(p, green::POLL_WRITE, sndtimeo(f), [&](int fd) {
      return real_send(fd, buf + done, n - done, flags | MSG_DONTWAIT);
    });
    if (r < 0) return partial(done, saved);
    done += (size_t)r;
    if (n == 0) break;
  }
  return (ssize_t)done;
}

// A read of n bytes on a plain TCP stream: one that comes back short has
// emptied the receive queue (socket_loop's drained hint); 0: not such a read.
size_t drains(const fdinfo* f, size_t n) { return f && f->tcp.load(std::memory_order_relaxed) ? n : 0; }

size_t iov_total(const struct iovec* iov, int cnt) {
  size_t t = 0;
  for (int i = 0; i < cnt; i++)
    if (__builtin_add_overflow(t, iov[i].iov_len, &t)) return 0;  // the call fails with EINVAL
  return t;
}

// Descriptors passed with SCM_RIGHTS: their descriptions are shared now.
void note_passed(const struct msghdr* m) {
  if (!m || !m->msg_control) return;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(const_cast<struct msghdr*>(m)); c;
       c = CMSG_NXTHDR(const_cast<struct msghdr*>(m), c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const int* fds = reinterpret_cast<const int*>(CMSG_DATA(c));
    for (size_t i = 0; i < n; i++) shared(fds[i]);
  }
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
    case how::sock: {
      pin p(fd);
      return socket_loop(p, green::POLL_READ, rcvtimeo(f),
                         [&](int d) { return real_recv(d, buf, n, MSG_DONTWAIT); }, drains(f, n));
    }
    case how::other: break;
  }
  pin p(fd);
  return wait_then_call(p, green::POLL_READ, 0,
                        [&](int d) { return cancel_syscall(SYS_read, d, (long)buf, (long)n); });
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
      pin p(fd);
      return socket_loop(p, green::POLL_READ, rcvtimeo(f),
                         [&](int d) { return real_recvmsg(d, &m, MSG_DONTWAIT); },
                         drains(f, iov_total(iov, cnt)));
    }
    case how::other: break;
  }
  pin p(fd);
  return wait_then_call(p, green::POLL_READ, 0,
                        [&](int d) { return cancel_syscall(SYS_readv, d, (long)iov, cnt); });
}

GREEN_EXPORT ssize_t recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* a,
                              socklen_t* al) {
  REAL(recvfrom);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT)) return real_recvfrom(fd, buf, n, flags, a, al);
  if (h != how::sock) { section s; return real_recvfrom(fd, buf, n, flags, a, al); }
  pin p(fd);
  if (!(flags & MSG_WAITALL) || n == 0)
    return socket_loop(p, green::POLL_READ, rcvtimeo(f), [&](int d) {
      return real_recvfrom(d, buf, n, flags | MSG_DONTWAIT, a, al);
    }, flags ? 0 : drains(f, n));
  int saved = errno;
  size_t got = 0;  // MSG_WAITALL: everything, or EOF/error/timeout
  while (got < n) {
    ssize_t r = socket_loop(p, green::POLL_READ, rcvtimeo(f), [&](int d) {
      return real_recvfrom(d, (char*)buf + got, n - got, (flags & ~MSG_WAITALL) | MSG_DONTWAIT, a, al);
    }, flags == MSG_WAITALL ? drains(f, n - got) : 0);
    if (r < 0) return partial(got, saved);
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
  pin p(fd);
  return socket_loop(p, green::POLL_READ, rcvtimeo(f),
                     [&](int d) { return real_recvmsg(d, m, flags | MSG_DONTWAIT); });
}

// A blocking recvmmsg collects vlen datagrams (MSG_WAITFORONE: the first
// one and whatever is queued with it), each waited for as a blocking
// recvmsg would (SO_RCVTIMEO ends the wait: what arrived is returned). As
// in the kernel, the timeout is checked only after a datagram arrives and
// is updated to the time left.
GREEN_EXPORT int recvmmsg(int fd, struct mmsghdr* v, unsigned int n, int flags,
                          struct timespec* timeout) {
  REAL(recvmmsg);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT)) return real_recvmmsg(fd, v, n, flags, timeout);
  if (h != how::sock) { section s; return real_recvmmsg(fd, v, n, flags, timeout); }
  if (timeout && (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000)) {
    errno = EINVAL;
    return -1;
  }
  int64_t end = timeout ? mono_now() + timeout->tv_sec * 1000000000LL + timeout->tv_nsec : 0;
  int each = (flags & ~MSG_WAITFORONE) | MSG_DONTWAIT;
  int saved = errno;
  unsigned got = 0;
  pin p(fd);
  while (got < n) {
    ssize_t r = socket_loop(p, green::POLL_READ, rcvtimeo(f), [&](int d) {
      return (ssize_t)real_recvmmsg(d, v + got, n - got, each, nullptr);
    });
    if (r < 0) return (int)partial(got, saved);
    got += (unsigned)r;
    if ((flags & MSG_WAITFORONE) || (v[got - 1].msg_hdr.msg_flags & MSG_OOB)) break;
    if (timeout) {
      int64_t left = end - mono_now();
      if (left < 0) left = 0;
      timeout->tv_sec = left / 1000000000;
      timeout->tv_nsec = left % 1000000000;
      if (left == 0) break;
    }
  }
  return (int)got;
}

// ---- write side ----
GREEN_EXPORT ssize_t write(int fd, const void* buf, size_t n) {
  REAL(write);
  green::testcancel();
  fdinfo* f = nullptr;
  switch (route(fd, &f)) {
    case how::pass: return real_write(fd, buf, n);
    case how::file: return cancel_syscall(SYS_write, fd, (long)buf, (long)n);
    case how::sock: {
      pin p(fd);
      return send_all(p, static_cast<const char*>(buf), n, 0, f);
    }
    case how::other: break;
  }
  pin p(fd);
  return wait_then_call(p, green::POLL_WRITE, 0,
                        [&](int d) { return cancel_syscall(SYS_write, d, (long)buf, (long)n); });
}

GREEN_EXPORT ssize_t writev(int fd, const struct iovec* iov, int cnt) {
  REAL(writev);
  green::testcancel();
  fdinfo* f = nullptr;
  auto call = [&](int d) { return cancel_syscall(SYS_writev, d, (long)iov, cnt); };
  switch (route(fd, &f)) {
    case how::pass: return real_writev(fd, iov, cnt);
    case how::file: return call(fd);
    case how::sock: break;  // rare on sockets; the blocking call in a section is exact
    case how::other: {
      pin p(fd);
      return wait_then_call(p, green::POLL_WRITE, 0, call);
    }
  }
  pin p(fd);
  return wait_then_call(p, green::POLL_WRITE, sndtimeo(f), call);
}

GREEN_EXPORT ssize_t sendto(int fd, const void* buf, size_t n, int flags,
                            const struct sockaddr* a, socklen_t al) {
  REAL(sendto);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT)) return real_sendto(fd, buf, n, flags, a, al);
  if (h != how::sock) { section s; return real_sendto(fd, buf, n, flags, a, al); }
  pin p(fd);
  if (!a) return send_all(p, static_cast<const char*>(buf), n, flags, f);
  return socket_loop(p, green::POLL_WRITE, sndtimeo(f),
                     [&](int d) { return real_sendto(d, buf, n, flags | MSG_DONTWAIT, a, al); });
}

GREEN_EXPORT ssize_t send(int fd, const void* buf, size_t n, int flags) {
  return sendto(fd, buf, n, flags, nullptr, 0);
}

GREEN_EXPORT ssize_t sendmsg(int fd, const struct msghdr* m, int flags) {
  REAL(sendmsg);
  green::testcancel();
  note_passed(m);
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT)) return real_sendmsg(fd, m, flags);
  if (h != how::sock) { section s; return real_sendmsg(fd, m, flags); }
  // Wait until writable, then the real blocking call: exact partial-write
  // semantics for any iovec shape.
  pin p(fd);
  return wait_then_call(p, green::POLL_WRITE, sndtimeo(f),
                        [&](int d) { return cancel_syscall(SYS_sendmsg, d, (long)m, flags); });
}

GREEN_EXPORT int sendmmsg(int fd, struct mmsghdr* v, unsigned int n, int flags) {
  REAL(sendmmsg);
  green::testcancel();
  for (unsigned i = 0; i < n; i++) note_passed(&v[i].msg_hdr);
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass || (flags & MSG_DONTWAIT)) return real_sendmmsg(fd, v, n, flags);
  pin p(fd);
  return (int)wait_then_call(p, green::POLL_WRITE, sndtimeo(f),
                             [&](int d) { return cancel_syscall(SYS_sendmmsg, d, (long)v, n, flags); });
}

// ---- connections ----
GREEN_EXPORT int accept4(int fd, struct sockaddr* a, socklen_t* al, int flags) {
  REAL(accept4);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  int r;
  if (h == how::pass) {
    r = real_accept4(fd, a, al, flags);
  } else if (h == how::file) {
    section s;
    r = real_accept4(fd, a, al, flags);
  } else {
    pin p(fd);
    r = (int)wait_then_call(p, green::POLL_READ, rcvtimeo(f),
                            [&](int d) { return cancel_syscall(SYS_accept4, d, (long)a, (long)al, flags); });
  }
  // a TCP listener's connections are TCP streams
  if (r >= 0) fd_new_socket(r, flags & SOCK_NONBLOCK, false, f && f->tcp.load(std::memory_order_relaxed), 0);
  return r;
}

GREEN_EXPORT int accept(int fd, struct sockaddr* a, socklen_t* al) { return accept4(fd, a, al, 0); }

GREEN_EXPORT int setsockopt(int fd, int level, int opt, const void* val, socklen_t len) {
  REAL(setsockopt);
  int r = real_setsockopt(fd, level, opt, val, len);
  if (r == 0 && level == SOL_SOCKET && (opt == SO_RCVTIMEO || opt == SO_SNDTIMEO) &&
      len >= sizeof(struct timeval)) {
    auto* tv = static_cast<const struct timeval*>(val);
    int64_t ns = (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000;
    if (fdinfo* f = fd_info(fd)) (opt == SO_RCVTIMEO ? f->rcvtimeo_ns : f->sndtimeo_ns).store(ns);
  }
  if (r == 0 && level == IPPROTO_TCP && opt == TCP_ULP)  // kernel TLS: reads stop at records
    if (fdinfo* f = fd_info(fd)) f->tcp.store(0, std::memory_order_relaxed);
  return r;
}

// ---- waiting for many fds ----
namespace {

// Pins on every descriptor of a poll/select while it waits: a poll keeps
// the files it waits on (a close by another thread leaves the file alive,
// its next event ends the wait and the fd is reported POLLNVAL).
struct pins {
  explicit pins(const struct pollfd* fds, nfds_t count) : n(count) {
    v = n <= 16 ? reinterpret_cast<pin*>(small) : static_cast<pin*>(malloc(n * sizeof(pin)));
    if (!v) n = 0;
    for (nfds_t i = 0; i < n; i++) new (&v[i]) pin(fds[i].fd);
  }
  ~pins() {
    for (nfds_t i = 0; i < n; i++) v[i].~pin();
    if (v != reinterpret_cast<pin*>(small)) free(v);
  }
  nfds_t n;
  pin* v;
  alignas(pin) unsigned char small[16 * sizeof(pin)];
};

// Block until one of fds may be ready or the deadline passes, using a
// private epoll instance the poller watches. Returns 0 on timeout, 1 when
// something may be ready, -1 with errno EINTR when a signal handler ran
// (poll and select are never restarted).
int wait_any(const struct pollfd* fds, nfds_t n, int64_t deadline) {
  REAL(close);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return 1;  // let the caller's real call decide
  pins held(fds, n);
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
  // a new epoll instance: its first wait registers it and reports its level
  int r = green::netpoll_wait(ep, green::POLL_READ, deadline, green::netpoll_seq(ep, green::POLL_READ));
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

// A descriptor of a select was closed while it waited: Linux then reports
// it in every set it was asked for (as poll reports POLLNVAL) and the
// others as usual, where a new select would fail with EBADF.
int select_closed(struct pollfd* fds, nfds_t n, fd_set* r, fd_set* w, fd_set* e, int saved) {
  REAL(poll);
  errno = saved;
  for (nfds_t i = 0; i < n; i++) fds[i].revents = 0;
  if (real_poll(fds, n, 0) < 0) return -1;
  if (r) FD_ZERO(r);
  if (w) FD_ZERO(w);
  if (e) FD_ZERO(e);
  int count = 0;
  for (nfds_t i = 0; i < n; i++) {
    short rev = fds[i].revents & POLLNVAL ? fds[i].events : fds[i].revents;
    if (rev & fds[i].events & POLLIN || (fds[i].events & POLLIN && rev & (POLLHUP | POLLERR)))
      FD_SET(fds[i].fd, r), count++;
    if (rev & fds[i].events & POLLOUT || (fds[i].events & POLLOUT && rev & POLLERR))
      FD_SET(fds[i].fd, w), count++;
    if (rev & fds[i].events & POLLPRI) FD_SET(fds[i].fd, e), count++;
  }
  return count;
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
  int saved = errno;
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
  for (bool waited = false;; waited = true) {
    if (r) *r = r0;
    if (w) *w = w0;
    if (e) *e = e0;
    int res = real_pselect(nfds, r, w, e, &zero, mask);
    if (res < 0 && errno == EBADF && waited) return select_closed(fds, n, r, w, e, saved);
    if (res != 0 || (ts && ts->tv_sec == 0 && ts->tv_nsec == 0)) return res;
    int got = wait_any(fds, n, deadline);
    if (got < 0) return -1;
    if (got == 0) {
      if (r) *r = r0;
      if (w) *w = w0;
      if (e) *e = e0;
      res = real_pselect(nfds, r, w, e, &zero, mask);
      if (res < 0 && errno == EBADF) return select_closed(fds, n, r, w, e, saved);
      return res;
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
  int64_t deadline = ts_deadline(tv ? &ts : nullptr);
  int res = pselect(nfds, r, w, e, tv ? &ts : nullptr, nullptr);
  if (tv && res >= 0) {  // Linux reports the time not slept
    int64_t left = deadline - mono_now();
    if (left < 0 || res == 0) left = 0;
    *tv = {(time_t)(left / 1000000000), (suseconds_t)(left % 1000000000 / 1000)};
  }
  return res;
}

GREEN_EXPORT int epoll_pwait2(int ep, struct epoll_event* ev, int max, const struct timespec* ts,
                              const sigset_t* mask) {
  REAL(epoll_pwait2);
  green::testcancel();
  static const struct timespec zero = {0, 0};
  if (!green::on_green()) return real_epoll_pwait2(ep, ev, max, ts, mask);
  int64_t deadline = ts_deadline(ts);
  int saved = errno;
  pin p(ep);  // a close of ep by another thread leaves this wait on it
  for (;;) {
    int fd = p.fd();
    uint32_t seq = green::netpoll_seq(fd, green::POLL_READ);
    int r = real_epoll_pwait2(fd, ev, max, &zero, mask);
    if (r < 0 && moved(p, fd)) continue;
    if (r != 0 || (ts && ts->tv_sec == 0 && ts->tv_nsec == 0)) return r;
    int w = green::netpoll_wait(fd, green::POLL_READ, deadline, seq);  // the app's epoll is pollable
    if (w == 0 || (w == EBADF && p.fd() != fd)) continue;
    if (w == ETIMEDOUT) {
      errno = saved;
      return 0;
    }
    if (w == EINTR) {  // never restarted, as Linux
      if (green::testcancel_intr()) continue;  // cancelled: unwound; stale: wait again
      green::interrupted_restart();
      errno = EINTR;
      return -1;
    }
    section s;
    return real_epoll_pwait2(fd, ev, max, ts, mask);
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
