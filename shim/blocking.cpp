// Calls that can block in the kernel and cannot be made asynchronous run
// inside a syscall section (core/syscall.cpp): if one blocks, sysmon hands
// its P to another M and the P's other Gs keep running. A section costs two
// CASes when the call does not block. errno is the call's own.
//
// The POSIX cancellation points among them act on a due cancellation at
// entry (POINT_SECTION); those that may wait in the kernel indefinitely
// (POINT) are the system call itself made with cancel_syscall, so that a
// cancellation also gets them out of the kernel (core/intr.cpp). Threads
// that are not Gs get glibc's calls, with glibc's cancellation.
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd.h"
#include "shim.h"

namespace {

template <typename F>
F next(F*, const char* name) {
  void* p = dlsym(RTLD_NEXT, name);
  if (!p) {
    static const char msg[] = "libgreen: a blocking call is missing from the C library\n";
    (void)!write(2, msg, sizeof msg - 1);
    abort();
  }
  return reinterpret_cast<F>(p);
}

struct section {
  section() { green::syscall_enter(); }
  ~section() { green::syscall_exit(); }
};

}  // namespace

// SECTION(return type, name, (typed parameters), (argument names))
#define SECTION(ret, name, params, args) SECTION_IF(ret, name, params, args, false)

// SECTION_IF: a SECTION whose call is expected to block when `blocks` (an
// expression of the arguments) holds: its P is handed on at once if other
// Gs want it (green::syscall_expect_block), not after sysmon's two ticks.
#define SECTION_IF(ret, name, params, args, blocks)            \
  GREEN_EXPORT ret name params {                               \
    static auto real = next<ret(*) params>(nullptr, #name);    \
    if (blocks) green::syscall_expect_block();                 \
    section in_kernel;                                         \
    return real args;                                          \
  }

// POINT_SECTION: SECTION at a cancellation point (regular files and block
// devices: the call cannot be interrupted once in the kernel anyway).
#define POINT_SECTION(ret, name, params, args)                 \
  GREEN_EXPORT ret name params {                               \
    static auto real = next<ret(*) params>(nullptr, #name);    \
    green::testcancel();                                       \
    section in_kernel;                                         \
    return real args;                                          \
  }

// POINT(return type, name, (typed parameters), (argument names),
//       (system call number and arguments))
#define POINT(ret, name, params, args, sys) POINT_IF(ret, name, params, args, sys, false)

// POINT_IF: a POINT expected to block when `blocks` holds (as SECTION_IF).
#define POINT_IF(ret, name, params, args, sys, blocks)         \
  GREEN_EXPORT ret name params {                               \
    static auto real = next<ret(*) params>(nullptr, #name);    \
    if (!green::on_green()) return real args;                  \
    green::testcancel();                                       \
    if (blocks) green::syscall_expect_block();                 \
    return (ret)green::shim::cancel_syscall sys;               \
  }

POINT_SECTION(ssize_t, pread, (int fd, void* b, size_t n, off_t o), (fd, b, n, o))
POINT_SECTION(ssize_t, pread64, (int fd, void* b, size_t n, off_t o), (fd, b, n, o))
POINT_SECTION(ssize_t, pwrite, (int fd, const void* b, size_t n, off_t o), (fd, b, n, o))
POINT_SECTION(ssize_t, pwrite64, (int fd, const void* b, size_t n, off_t o), (fd, b, n, o))
POINT_SECTION(ssize_t, preadv, (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o))
POINT_SECTION(ssize_t, preadv64, (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o))
POINT_SECTION(ssize_t, pwritev, (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o))
POINT_SECTION(ssize_t, pwritev64, (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o))
POINT_SECTION(ssize_t, preadv2, (int fd, const struct iovec* v, int n, off_t o, int f), (fd, v, n, o, f))
POINT_SECTION(ssize_t, pwritev2, (int fd, const struct iovec* v, int n, off_t o, int f), (fd, v, n, o, f))
POINT_IF(int, fsync, (int fd), (fd), (SYS_fsync, fd), true)
POINT_IF(int, fdatasync, (int fd), (fd), (SYS_fdatasync, fd), true)
SECTION_IF(int, syncfs, (int fd), (fd), true)
SECTION_IF(void, sync, (void), (), true)
POINT_IF(int, sync_file_range, (int fd, off64_t o, off64_t n, unsigned f), (fd, o, n, f),
         (SYS_sync_file_range, fd, o, n, f),
         f & (SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER))
POINT_IF(pid_t, waitpid, (pid_t p, int* st, int o), (p, st, o), (SYS_wait4, p, (long)st, o, 0),
         !(o & WNOHANG))
POINT_IF(pid_t, wait, (int* st), (st), (SYS_wait4, -1, (long)st, 0, 0), true)
POINT_IF(pid_t, wait3, (int* st, int o, struct rusage* r), (st, o, r),
         (SYS_wait4, -1, (long)st, o, (long)r), !(o & WNOHANG))
POINT_IF(pid_t, wait4, (pid_t p, int* st, int o, struct rusage* r), (p, st, o, r),
         (SYS_wait4, p, (long)st, o, (long)r), !(o & WNOHANG))
POINT_IF(int, waitid, (idtype_t t, id_t id, siginfo_t* i, int o), (t, id, i, o),
         (SYS_waitid, t, id, (long)i, o, 0), !(o & WNOHANG))
SECTION_IF(int, flock, (int fd, int op), (fd, op), !(op & LOCK_NB))
POINT_IF(int, pause, (void), (), (SYS_pause), true)
POINT_IF(ssize_t, msgrcv, (int q, void* m, size_t n, long t, int f), (q, m, n, t, f),
         (SYS_msgrcv, q, (long)m, (long)n, t, f), !(f & IPC_NOWAIT))
POINT_IF(int, msgsnd, (int q, const void* m, size_t n, int f), (q, m, n, f),
         (SYS_msgsnd, q, (long)m, (long)n, f), !(f & IPC_NOWAIT))

// sigsuspend: libgreen's own signals stay deliverable while it waits.
GREEN_EXPORT int sigsuspend(const sigset_t* s) {
  static auto real = next<int (*)(const sigset_t*)>(nullptr, "sigsuspend");
  if (!green::on_green()) return real(s);
  green::testcancel();
  uint64_t mask;
  memcpy(&mask, s, sizeof mask);
  mask &= ~green::signals_reserved();
  green::syscall_expect_block();
  return (int)green::shim::cancel_syscall(SYS_rt_sigsuspend, (long)&mask, sizeof mask);
}

// lockf(F_LOCK) is fcntl(F_SETLKW) on the rest of the file, as in glibc.
#define LOCKF_LIKE(name)                                                        \
  GREEN_EXPORT int name(int fd, int cmd, off_t len) {                           \
    static auto real = next<int (*)(int, int, off_t)>(nullptr, #name);         \
    if (cmd != F_LOCK || !green::on_green()) {                                  \
      section in_kernel;                                                        \
      return real(fd, cmd, len);                                                \
    }                                                                           \
    green::testcancel();                                                        \
    struct flock fl = {};                                                       \
    fl.l_type = F_WRLCK;                                                        \
    fl.l_whence = SEEK_CUR;                                                     \
    fl.l_len = len;                                                             \
    green::syscall_expect_block();                                              \
    return (int)green::shim::cancel_syscall(SYS_fcntl, fd, F_SETLKW, (long)&fl); \
  }
LOCKF_LIKE(lockf)
LOCKF_LIKE(lockf64)
// A semop waits only for an operation that takes (< 0) or waits for zero
// (0), without IPC_NOWAIT.
static bool semop_may_wait(const struct sembuf* o, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (o[i].sem_op <= 0 && !(o[i].sem_flg & IPC_NOWAIT)) return true;
  return false;
}
SECTION_IF(int, semop, (int s, struct sembuf* o, size_t n), (s, o, n), semop_may_wait(o, n))
SECTION_IF(int, semtimedop, (int s, struct sembuf* o, size_t n, const struct timespec* t), (s, o, n, t),
           semop_may_wait(o, n))
// The shell inherits every descriptor that is not close-on-exec.
GREEN_EXPORT int system(const char* c) {
  static auto real = next<int (*)(const char*)>(nullptr, "system");
  green::shim::shared_all();
  green::syscall_expect_block();
  section in_kernel;
  return real(c);
}
SECTION(int, pclose, (FILE* f), (f))
SECTION(int, getaddrinfo,
        (const char* n, const char* s, const struct addrinfo* h, struct addrinfo** r),
        (n, s, h, r))
SECTION(int, getnameinfo,
        (const struct sockaddr* a, socklen_t al, char* h, socklen_t hl, char* s, socklen_t sl, int f),
        (a, al, h, hl, s, sl, f))
SECTION(struct hostent*, gethostbyname, (const char* n), (n))
SECTION(struct hostent*, gethostbyname2, (const char* n, int af), (n, af))
SECTION(int, gethostbyname_r,
        (const char* n, struct hostent* h, char* b, size_t bl, struct hostent** r, int* e),
        (n, h, b, bl, r, e))
SECTION(int, gethostbyname2_r,
        (const char* n, int af, struct hostent* h, char* b, size_t bl, struct hostent** r, int* e),
        (n, af, h, b, bl, r, e))

// Variadic calls: the optional argument is read as glibc does. Opening a
// FIFO or a slow device blocks: on a G, openat itself (what glibc's open
// makes; O_LARGEFILE is implied on x86_64), a cancellation point.
#define OPEN_LIKE(name, params, call_args, dir)                                      \
  GREEN_EXPORT int name params {                                                    \
    static auto real = next<int (*)(...)>(nullptr, #name);                          \
    mode_t mode = 0;                                                                \
    if (flags & (O_CREAT | __O_TMPFILE)) {                                          \
      va_list ap;                                                                   \
      va_start(ap, flags);                                                          \
      mode = va_arg(ap, mode_t);                                                    \
      va_end(ap);                                                                   \
    }                                                                               \
    int fd;                                                                         \
    if (!green::on_green()) {                                                       \
      fd = real call_args;                                                          \
    } else {                                                                        \
      green::testcancel();                                                          \
      fd = (int)green::shim::cancel_syscall(SYS_openat, dir, (long)path, flags, mode); \
    }                                                                               \
    if (fd >= 0) green::shim::fd_forget(fd);                                        \
    return fd;                                                                      \
  }
OPEN_LIKE(open, (const char* path, int flags, ...), (path, flags, mode), AT_FDCWD)
OPEN_LIKE(open64, (const char* path, int flags, ...), (path, flags, mode), AT_FDCWD)
OPEN_LIKE(openat, (int dir, const char* path, int flags, ...), (dir, path, flags, mode), dir)
OPEN_LIKE(openat64, (int dir, const char* path, int flags, ...), (dir, path, flags, mode), dir)

// glibc's creat calls its own open, which never reaches ours.
#define CREAT_LIKE(name)                                                            \
  GREEN_EXPORT int name(const char* path, mode_t mode) {                            \
    static auto real = next<int (*)(const char*, mode_t)>(nullptr, #name);          \
    int fd;                                                                         \
    if (!green::on_green()) {                                                       \
      fd = real(path, mode);                                                        \
    } else {                                                                        \
      green::testcancel();                                                          \
      fd = (int)green::shim::cancel_syscall(SYS_openat, AT_FDCWD, (long)path,       \
                                            O_CREAT | O_WRONLY | O_TRUNC, mode);    \
    }                                                                               \
    if (fd >= 0) green::shim::fd_forget(fd);                                        \
    return fd;                                                                      \
  }
CREAT_LIKE(creat)
CREAT_LIKE(creat64)

static bool fcntl_blocks(int cmd) { return cmd == F_SETLKW || cmd == F_OFD_SETLKW; }

#define FCNTL_LIKE(name)                                                   \
  GREEN_EXPORT int name(int fd, int cmd, ...) {                           \
    static auto real = next<int (*)(int, int, ...)>(nullptr, #name);      \
    va_list ap;                                                           \
    va_start(ap, cmd);                                                    \
    void* arg = va_arg(ap, void*);                                        \
    va_end(ap);                                                           \
    if (!fcntl_blocks(cmd)) {                                             \
      int r = real(fd, cmd, arg);                                         \
      if (r == 0 && cmd == F_SETFL)                                       \
        green::shim::fd_set_nonblock(fd, (long)arg & O_NONBLOCK);         \
      if (r > 0 && cmd == F_GETFL && green::shim::fd_flipped(fd))         \
        r &= ~O_NONBLOCK;                                                 \
      if (r >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {         \
        green::shim::shared(fd);                                          \
        green::shim::fd_forget(r);                                        \
      }                                                                   \
      return r;                                                           \
    }                                                                     \
    if (!green::on_green()) return real(fd, cmd, arg);                    \
    green::testcancel(); /* F_SETLKW is a cancellation point */           \
    green::syscall_expect_block();                                        \
    return (int)green::shim::cancel_syscall(SYS_fcntl, fd, cmd, (long)arg); \
  }
FCNTL_LIKE(fcntl)
FCNTL_LIKE(fcntl64)

GREEN_EXPORT int ioctl(int fd, unsigned long req, ...) {
  static auto real = next<int (*)(int, unsigned long, ...)>(nullptr, "ioctl");
  va_list ap;
  va_start(ap, req);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  int r;
  {
    section in_kernel;  // device ioctls may block; a section is two CASes if not
    r = real(fd, req, arg);
  }
  if (r == 0 && req == FIONBIO && arg) green::shim::fd_set_nonblock(fd, *static_cast<int*>(arg) != 0);
  return r;
}
