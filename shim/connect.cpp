// socket() and a blocking connect() that parks its G instead of an OS
// thread.
//
// A blocking connect has no non-blocking form without O_NONBLOCK on the
// open file description: there is no MSG_DONTWAIT for connect, a dup
// shares the description, and SO_SNDTIMEO (which makes a TCP connect
// return EINPROGRESS) still blocks at least a jiffy and is as visible as
// the flag. io_uring's IORING_OP_CONNECT would do it, but io_uring is
// often disabled (sysctl, container seccomp profiles). So O_NONBLOCK is set
// around one connect call, and only on a socket nobody else can see: an
// AF_INET/AF_INET6 SOCK_STREAM socket this process made with socket() that
// has not been dup'ed, passed with SCM_RIGHTS or inherited by a child
// (every fork, posix_spawn, popen and system ends "owned": see fd.h), and
// that the application itself keeps blocking. The flag is set for the
// duration of one non-blocking connect (or re-connect) system call, never
// across a wait; inside this process the shim keeps reporting the
// application's own flag. Not seen: clone and raw fork system calls
// of the application, pidfd_getfd from another process.
//
// The wait reuses the kernel's own state machine: after EINPROGRESS the G
// parks until the socket is writable and connects again, which returns 0
// once established, the pending error (ECONNREFUSED, ETIMEDOUT, ...) once
// failed, or EALREADY while still in progress. As natively, SO_SNDTIMEO
// ends the wait with EINPROGRESS (EALREADY if another connect started it).
// Other sockets (AF_UNIX, whose connect waits for room in the listener's
// backlog and cannot be polled for it; shared ones) block in a syscall
// section as before.
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "io.h"
#include "os.h"

using namespace green::shim;
using namespace green::shim::io;

namespace {

bool parkable(fdinfo* f) {
  uint32_t owned = f->owned.load(std::memory_order_acquire);
  return f->inet_stream.load(std::memory_order_relaxed) && owned && owned == share_epoch();
}

// One connect with O_NONBLOCK set on fd's description just for the call.
int connect_once(int fd, const struct sockaddr* a, socklen_t al, fdinfo* f) {
  REAL(connect);
  int on = 1, off = 0;
  f->flipped.store(1, std::memory_order_relaxed);  // F_GETFL keeps saying "blocking"
  if (green::os::syscall6(SYS_ioctl, fd, FIONBIO, (long)&on) != 0) {
    f->flipped.store(0, std::memory_order_relaxed);
    return -2;
  }
  int r = real_connect(fd, a, al);
  int e = errno;
  green::os::syscall6(SYS_ioctl, fd, FIONBIO, (long)&off);
  f->flipped.store(0, std::memory_order_relaxed);
  errno = e;
  return r;
}

int connect_parked(int fd, const struct sockaddr* a, socklen_t al, fdinfo* f) {
  pin p(fd);
  int64_t deadline = deadline_after(sndtimeo(f));
  int first = 0;  // what the first call said: returned when SO_SNDTIMEO expires
  for (;;) {
    int cur = p.fd();
    fdinfo* cf = fd_info(cur);
    uint32_t seq = green::netpoll_seq(cur, green::POLL_WRITE);
    int r = connect_once(cur, a, al, cf ? cf : f);
    if (r == -2) return (int)cancel_syscall(SYS_connect, cur, (long)a, al);  // could not set the flag
    if (r == 0) return 0;
    if (moved(p, cur)) continue;
    if (errno != EINPROGRESS && errno != EALREADY) return -1;
    if (!first) first = errno;
    int w = await(p, cur, green::POLL_WRITE, deadline, seq);
    if (w < 0) {
      if (errno == EAGAIN) errno = first;
      return -1;
    }
    if (w == 1) return (int)cancel_syscall(SYS_connect, cur, (long)a, al);
  }
}

}  // namespace

GREEN_EXPORT int socket(int domain, int type, int proto) {
  REAL(socket);
  int fd = real_socket(domain, type, proto);
  if (fd < 0) return fd;
  bool inet = domain == AF_INET || domain == AF_INET6;
  bool stream = inet && (type & 0xf) == SOCK_STREAM;
  fd_new_socket(fd, type & SOCK_NONBLOCK, stream, stream && (proto == 0 || proto == IPPROTO_TCP),
                share_epoch());
  return fd;
}

GREEN_EXPORT int connect(int fd, const struct sockaddr* a, socklen_t al) {
  REAL(connect);
  green::testcancel();
  fdinfo* f = nullptr;
  how h = route(fd, &f);
  if (h == how::pass) return real_connect(fd, a, al);
  if (h == how::sock && parkable(f)) return connect_parked(fd, a, al, f);
  // A blocking connect completes in the kernel; a handoff covers it.
  return (int)cancel_syscall(SYS_connect, fd, (long)a, al);
}

// ---- new processes share every descriptor they inherit ----
GREEN_EXPORT int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* fa,
                             const posix_spawnattr_t* at, char* const argv[], char* const envp[]) {
  REAL(posix_spawn);
  shared_all();
  return real_posix_spawn(pid, path, fa, at, argv, envp);
}

GREEN_EXPORT int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* fa,
                              const posix_spawnattr_t* at, char* const argv[], char* const envp[]) {
  REAL(posix_spawnp);
  shared_all();
  return real_posix_spawnp(pid, file, fa, at, argv, envp);
}

GREEN_EXPORT FILE* popen(const char* cmd, const char* mode) {
  REAL(popen);
  shared_all();
  return real_popen(cmd, mode);
}

// shutdown wakes calls blocked on the socket in the kernel; epoll does not
// report every case (a unix socket's own SHUT_WR sets no poll bit), so the
// parked ones are told to retry: a reader then sees EOF, a writer EPIPE or
// its partial count, as natively.
GREEN_EXPORT int shutdown(int fd, int how_) {
  REAL(shutdown);
  int r = real_shutdown(fd, how_);
  if (r == 0) green::netpoll_ready(fd, green::POLL_READ | green::POLL_WRITE);
  return r;
}
