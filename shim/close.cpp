// The end of a descriptor: close, dup2/dup3 over it, close_range,
// closefrom. Each goes through fd_retire (fd.cpp), so a call blocked on
// the descriptor stays on its old file, as on Linux:
//  - read/recv/accept/write/send/connect blocked on it keep waiting on the
//    file (data, EOF, shutdown or a connection end them; a socket's
//    SO_RCVTIMEO still applies); the number is free at once, and a file
//    that reuses it is not theirs;
//  - poll/select keep waiting; the old file's next event (or the timeout)
//    ends them with the closed fd reported (POLLNVAL; select: in each set);
//  - epoll_wait on a closed epoll fd keeps waiting for its events.
// dup, F_DUPFD and fork share an open file description: connect.cpp's
// "owned" sockets stop being owned.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"

using namespace green::shim;
using namespace green::shim::io;

namespace {

// close(2) blocks only on a lingering socket or a slow file system.
int close_op(int fd, void* ctx) {
  REAL(close);
  uint8_t kind = *static_cast<uint8_t*>(ctx);
  if (!green::on_green()) return real_close(fd);
  bool may_block = kind == FD_FILE || kind == FD_UNKNOWN;
  if (kind == FD_SOCKET) {
    struct linger l = {};
    socklen_t len = sizeof l;
    may_block = getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) == 0 && l.l_onoff;
  }
  if (!may_block) return real_close(fd);
  section s;
  return real_close(fd);
}

struct dup_args {
  int old, flags;
  bool three;
};
int dup_op(int nfd, void* ctx) {
  REAL(dup2);
  REAL(dup3);
  auto* a = static_cast<dup_args*>(ctx);
  return a->three ? real_dup3(a->old, nfd, a->flags) : real_dup2(a->old, nfd);
}

int plain_close(int fd, void*) {
  REAL(close);
  return real_close(fd);
}

bool open_fd(int fd) { return fcntl(fd, F_GETFD) >= 0; }

}  // namespace

GREEN_EXPORT int close(int fd) {
  green::testcancel();
  if (__builtin_expect(green::ownfd_is(fd), 0)) {  // never the program's (core/ownfd.cpp)
    if (!green::called_by_unwinder(__builtin_return_address(0))) {
      errno = EBADF;
      return -1;
    }
    green::ownfd_del(fd);  // the unwinder replaces its pipe
  }
  fdinfo* f = fd_info(fd);
  uint8_t kind = f ? f->kind.load(std::memory_order_relaxed) : (uint8_t)FD_UNKNOWN;
  return fd_retire(fd, fd_end::close, close_op, &kind);
}

GREEN_EXPORT int dup(int old) {
  REAL(dup);
  int r = real_dup(old);
  if (r >= 0) {
    shared(old);
    fd_forget(r);
  }
  return r;
}

// An invalid old or nfd leaves nfd alone (the kernel's EBADF/EINVAL).
// dup2/dup3 onto a number of libgreen's own: ours moves first.
int dup_onto(int old, int nfd, int flags, bool three) {
  bool ours = green::ownfd_relocate(nfd);
  dup_args a = {old, flags, three};
  int r = fd_retire(nfd, fd_end::replace, dup_op, &a);
  if (r >= 0) {
    shared(old);
  } else if (ours) {
    int e = errno;
    plain_close(nfd, nullptr);  // the copy left behind: the number is free, as natively
    errno = e;
  }
  return r;
}

GREEN_EXPORT int dup2(int old, int nfd) {
  REAL(dup2);
  if (old == nfd || nfd < 0 || !open_fd(old)) return real_dup2(old, nfd);
  return dup_onto(old, nfd, 0, false);
}

GREEN_EXPORT int dup3(int old, int nfd, int flags) {
  REAL(dup3);
  if (old == nfd || nfd < 0 || (flags & ~O_CLOEXEC) || !open_fd(old)) return real_dup3(old, nfd, flags);
  return dup_onto(old, nfd, flags, true);
}

// Descriptors libgreen knows something about are retired one by one (a
// pinned file moves to a hidden copy, which may land inside the range);
// then the kernel closes the rest, around the hidden copies.
GREEN_EXPORT int close_range(unsigned int first, unsigned int last, int flags) {
  REAL(close_range);
  if (flags || first > last) return real_close_range(first, last, flags);
  unsigned top = (unsigned)fd_known_limit();
  for (unsigned fd = first; fd <= last && fd < top; fd++) {
    if (fd_busy((int)fd))
      fd_retire((int)fd, fd_end::close, plain_close, nullptr);
  }
  // The kernel closes everything between the hidden copies and libgreen's
  // own descriptors.
  top = (unsigned)fd_known_limit();
  unsigned own_top = (unsigned)(green::ownfd_highest() + 1);
  unsigned from = first;
  for (unsigned fd = first; fd <= last && (fd < top || fd < own_top); fd++) {
    if (!(fd < top && fd_hidden((int)fd)) && !green::ownfd_is((int)fd)) continue;
    if (from < fd && real_close_range(from, fd - 1, 0) != 0) return -1;
    from = fd + 1;
  }
  if (from > last) return 0;
  return real_close_range(from, last, 0);
}

GREEN_EXPORT void closefrom(int low) {
  REAL(closefrom);
  if (low < 0 || close_range((unsigned)low, ~0U, 0) != 0) real_closefrom(low);
}
