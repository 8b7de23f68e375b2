// syscall(SYS_xxx, ...) for calls libgreen interposes: the same wrapper as
// the libc name, so a raw read on a pipe parks like read(), a raw close
// keeps a blocked call on its file, a raw nanosleep parks on a timer.
// syscall() and these wrappers share one convention (-1 and errno), except
// clock_nanosleep (it returns the error), converted here. Where the raw
// call differs from the libc one (pselect6's packed mask, ppoll's and
// epoll_pwait's mask size) the arguments are translated; the kernel's
// update of a ppoll/pselect6 timeout argument is not reproduced (glibc's
// wrappers do not do it either). Every other number is the real system call
// in a syscall section (syscall.cpp).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fd.h"
#include "shim.h"

namespace green::shim {

namespace {

template <typename T>
T p(long v) {
  return reinterpret_cast<T>(v);
}
int i(long v) { return (int)v; }

}  // namespace

bool syscall_routed(long n, const long* a, long* out) {
  long r;
  switch (n) {
    case SYS_read: r = ::read(i(a[0]), p<void*>(a[1]), (size_t)a[2]); break;
    case SYS_write: r = ::write(i(a[0]), p<const void*>(a[1]), (size_t)a[2]); break;
    case SYS_readv: r = ::readv(i(a[0]), p<const struct iovec*>(a[1]), i(a[2])); break;
    case SYS_writev: r = ::writev(i(a[0]), p<const struct iovec*>(a[1]), i(a[2])); break;
    case SYS_recvfrom:
      r = ::recvfrom(i(a[0]), p<void*>(a[1]), (size_t)a[2], i(a[3]), p<struct sockaddr*>(a[4]),
                     p<socklen_t*>(a[5]));
      break;
    case SYS_sendto:
      r = ::sendto(i(a[0]), p<const void*>(a[1]), (size_t)a[2], i(a[3]),
                   p<const struct sockaddr*>(a[4]), (socklen_t)a[5]);
      break;
    case SYS_recvmsg: r = ::recvmsg(i(a[0]), p<struct msghdr*>(a[1]), i(a[2])); break;
    case SYS_sendmsg: r = ::sendmsg(i(a[0]), p<const struct msghdr*>(a[1]), i(a[2])); break;
    case SYS_recvmmsg:
      r = ::recvmmsg(i(a[0]), p<struct mmsghdr*>(a[1]), (unsigned)a[2], i(a[3]),
                     p<struct timespec*>(a[4]));
      break;
    case SYS_sendmmsg: r = ::sendmmsg(i(a[0]), p<struct mmsghdr*>(a[1]), (unsigned)a[2], i(a[3])); break;
    case SYS_accept: r = ::accept(i(a[0]), p<struct sockaddr*>(a[1]), p<socklen_t*>(a[2])); break;
    case SYS_accept4:
      r = ::accept4(i(a[0]), p<struct sockaddr*>(a[1]), p<socklen_t*>(a[2]), i(a[3]));
      break;
    case SYS_connect: r = ::connect(i(a[0]), p<const struct sockaddr*>(a[1]), (socklen_t)a[2]); break;
    case SYS_socket: r = ::socket(i(a[0]), i(a[1]), i(a[2])); break;
    case SYS_shutdown: r = ::shutdown(i(a[0]), i(a[1])); break;
    case SYS_setsockopt:
      r = ::setsockopt(i(a[0]), i(a[1]), i(a[2]), p<const void*>(a[3]), (socklen_t)a[4]);
      break;
    case SYS_poll: r = ::poll(p<struct pollfd*>(a[0]), (nfds_t)a[1], i(a[2])); break;
    case SYS_ppoll:
      r = ::ppoll(p<struct pollfd*>(a[0]), (nfds_t)a[1], p<const struct timespec*>(a[2]),
                  p<const sigset_t*>(a[3]));
      break;
    case SYS_select:
      r = ::select(i(a[0]), p<fd_set*>(a[1]), p<fd_set*>(a[2]), p<fd_set*>(a[3]), p<struct timeval*>(a[4]));
      break;
    case SYS_pselect6: {
      auto* packed = p<const long*>(a[5]);  // {const sigset_t* set; size_t size}
      r = ::pselect(i(a[0]), p<fd_set*>(a[1]), p<fd_set*>(a[2]), p<fd_set*>(a[3]),
                    p<const struct timespec*>(a[4]), packed ? p<const sigset_t*>(packed[0]) : nullptr);
      break;
    }
    case SYS_epoll_wait: r = ::epoll_wait(i(a[0]), p<struct epoll_event*>(a[1]), i(a[2]), i(a[3])); break;
    case SYS_epoll_pwait:
      r = ::epoll_pwait(i(a[0]), p<struct epoll_event*>(a[1]), i(a[2]), i(a[3]), p<const sigset_t*>(a[4]));
      break;
    case SYS_epoll_pwait2:
      r = ::epoll_pwait2(i(a[0]), p<struct epoll_event*>(a[1]), i(a[2]), p<const struct timespec*>(a[3]),
                         p<const sigset_t*>(a[4]));
      break;
    case SYS_close: r = ::close(i(a[0])); break;
    case SYS_close_range: r = ::close_range((unsigned)a[0], (unsigned)a[1], i(a[2])); break;
    case SYS_dup: r = ::dup(i(a[0])); break;
    case SYS_dup2: r = ::dup2(i(a[0]), i(a[1])); break;
    case SYS_dup3: r = ::dup3(i(a[0]), i(a[1]), i(a[2])); break;
    case SYS_fcntl: r = ::fcntl(i(a[0]), i(a[1]), a[2]); break;
    case SYS_ioctl: r = ::ioctl(i(a[0]), (unsigned long)a[1], a[2]); break;
    case SYS_open: r = ::open(p<const char*>(a[0]), i(a[1]), (mode_t)a[2]); break;
    case SYS_openat: r = ::openat(i(a[0]), p<const char*>(a[1]), i(a[2]), (mode_t)a[3]); break;
    case SYS_splice:
      r = ::splice(i(a[0]), p<loff_t*>(a[1]), i(a[2]), p<loff_t*>(a[3]), (size_t)a[4], (unsigned)a[5]);
      break;
    case SYS_tee: r = ::tee(i(a[0]), i(a[1]), (size_t)a[2], (unsigned)a[3]); break;
    case SYS_vmsplice: r = ::vmsplice(i(a[0]), p<const struct iovec*>(a[1]), (size_t)a[2], (unsigned)a[3]); break;
    case SYS_sendfile: r = ::sendfile(i(a[0]), i(a[1]), p<off_t*>(a[2]), (size_t)a[3]); break;
    case SYS_copy_file_range:
      r = ::copy_file_range(i(a[0]), p<off64_t*>(a[1]), i(a[2]), p<off64_t*>(a[3]), (size_t)a[4],
                            (unsigned)a[5]);
      break;
    case SYS_wait4: r = ::wait4(i(a[0]), p<int*>(a[1]), i(a[2]), p<struct rusage*>(a[3])); break;
    case SYS_nanosleep:
      r = ::nanosleep(p<const struct timespec*>(a[0]), p<struct timespec*>(a[1]));
      break;
    case SYS_clock_nanosleep: {
      int e = ::clock_nanosleep((clockid_t)a[0], i(a[1]), p<const struct timespec*>(a[2]),
                                p<struct timespec*>(a[3]));
      if (e) errno = e;
      r = e ? -1 : 0;
      break;
    }
    case SYS_vfork:  // a fork, as vfork() (vfork.cpp)
      r = ::vfork();
      break;
    case SYS_fork:
      shared_all();  // a new process may hold every descriptor; the call itself stays raw
      return false;
    case SYS_clone:
      if (!(a[0] & CLONE_THREAD)) shared_all();
      return false;
    case SYS_clone3:
      if (!a[0] || !(*p<const uint64_t*>(a[0]) & CLONE_THREAD)) shared_all();
      return false;
    default:
      return false;
  }
  *out = r;
  return true;
}

}  // namespace green::shim
