// Calls that make pollable descriptors without going through open, socket,
// accept or dup (which already tell fd.cpp): the numbers they return may
// have been closed where no interposition sees it (glibc's fclose, pclose
// or closedir close with their own internal call), so what fd.cpp and the
// netpoller remember about the number (its kind, a poller registration of
// the old file) is forgotten here before the application can use it.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "io.h"
#include "os.h"

using namespace green::shim;

namespace {
int fresh(int fd) {
  if (fd >= 0) fd_forget(fd);
  return fd;
}
int fresh2(int r, const int* fds) {
  if (r == 0) {
    fd_forget(fds[0]);
    fd_forget(fds[1]);
  }
  return r;
}
}  // namespace

GREEN_EXPORT int pipe(int fds[2]) {
  REAL(pipe);
  return fresh2(real_pipe(fds), fds);
}

// libunwind validates the addresses it unwinds through by writing them into
// a pipe of its own, whose numbers it keeps: those become libgreen's
// (core/ownfd.cpp), so the program neither sees nor reuses them.
GREEN_EXPORT int pipe2(int fds[2], int flags) {
  REAL(pipe2);
  if (__builtin_expect(green::called_by_unwinder(__builtin_return_address(0)), 0)) {
    int r = real_pipe2(fds, flags | O_CLOEXEC);
    if (r != 0) return r;
    for (int i = 0; i < 2; i++) {
      fds[i] = green::os::move_high(fds[i]);
      green::ownfd_add(fds[i], &fds[i], nullptr);
    }
    return 0;
  }
  return fresh2(real_pipe2(fds, flags), fds);
}

GREEN_EXPORT int socketpair(int domain, int type, int proto, int fds[2]) {
  REAL(socketpair);
  return fresh2(real_socketpair(domain, type, proto, fds), fds);
}

GREEN_EXPORT int eventfd(unsigned int initval, int flags) {
  REAL(eventfd);
  return fresh(real_eventfd(initval, flags));
}

GREEN_EXPORT int timerfd_create(int clock, int flags) {
  REAL(timerfd_create);
  return fresh(real_timerfd_create(clock, flags));
}

GREEN_EXPORT int signalfd(int fd, const sigset_t* mask, int flags) {
  REAL(signalfd);
  int r = real_signalfd(fd, mask, flags);
  return fd == -1 ? fresh(r) : r;  // fd != -1 changes an existing signalfd's mask
}

GREEN_EXPORT int epoll_create(int size) {
  REAL(epoll_create);
  return fresh(real_epoll_create(size));
}

GREEN_EXPORT int epoll_create1(int flags) {
  REAL(epoll_create1);
  return fresh(real_epoll_create1(flags));
}

GREEN_EXPORT int inotify_init(void) {
  REAL(inotify_init);
  return fresh(real_inotify_init());
}

GREEN_EXPORT int inotify_init1(int flags) {
  REAL(inotify_init1);
  return fresh(real_inotify_init1(flags));
}
