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
#include <limits.h>
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
#include "os.h"
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

// Calls expected to block hand their P on as they begin, if other Gs want
// it (green::syscall_expect_block), not after sysmon's two ticks. Those
// that often complete at once (an uncontended lock, a child already gone)
// first make the call with their own don't-wait flag, a raw system call
// that cannot block: an attempt returns the call's raw result (-errno), or
// BLOCKS if it would wait, or UNTRIED (no such attempt applies: the plain
// call, no hint).
constexpr long BLOCKS = LONG_MIN, UNTRIED = LONG_MIN + 1;

using green::os::syscall6;
using green::shim::sys_result;

long try_wait4(pid_t p, int* st, int o, struct rusage* ru) {
  if (o & WNOHANG) return UNTRIED;
  long r = syscall6(SYS_wait4, p, (long)st, o | WNOHANG, (long)ru);
  return r == 0 ? BLOCKS : r;
}

long try_waitid(idtype_t t, id_t id, siginfo_t* i, int o) {
  if ((o & WNOHANG) || !i) return UNTRIED;
  i->si_pid = 0;
  long r = syscall6(SYS_waitid, t, id, (long)i, o | WNOHANG, 0);
  return r == 0 && i->si_pid == 0 ? BLOCKS : r;
}

long try_msgrcv(int q, void* m, size_t n, long t, int f) {
  if (f & IPC_NOWAIT) return UNTRIED;
  long r = syscall6(SYS_msgrcv, q, (long)m, (long)n, t, f | IPC_NOWAIT);
  return r == -ENOMSG ? BLOCKS : r;
}

long try_msgsnd(int q, const void* m, size_t n, int f) {
  if (f & IPC_NOWAIT) return UNTRIED;
  long r = syscall6(SYS_msgsnd, q, (long)m, (long)n, f | IPC_NOWAIT);
  return r == -EAGAIN ? BLOCKS : r;
}

long try_flock(int fd, int op) {
  if (op & (LOCK_NB | LOCK_UN)) return UNTRIED;
  long r = syscall6(SYS_flock, fd, op | LOCK_NB);
  return r == -EWOULDBLOCK ? BLOCKS : r;
}

// A lock request that waits (F_SETLKW, F_OFD_SETLKW) tried without waiting.
long try_lock(int fd, int cmd, void* fl) {
  long r = syscall6(SYS_fcntl, fd, cmd == F_SETLKW ? F_SETLK : F_OFD_SETLK, (long)fl);
  return r == -EAGAIN || r == -EACCES ? BLOCKS : r;
}

// semop waits only for an operation that takes (< 0) or waits for zero
// (0) without IPC_NOWAIT; tried with IPC_NOWAIT on every operation.
long try_semop(int s, const struct sembuf* o, size_t n) {
  struct sembuf copy[32];
  if (n > 32) return UNTRIED;
  bool may_wait = false;
  for (size_t i = 0; i < n; i++) {
    copy[i] = o[i];
    may_wait |= o[i].sem_op <= 0 && !(o[i].sem_flg & IPC_NOWAIT);
    copy[i].sem_flg |= IPC_NOWAIT;
  }
  if (!may_wait) return UNTRIED;
  long r = syscall6(SYS_semtimedop, s, (long)copy, (long)n, 0);
  return r == -EAGAIN ? BLOCKS : r;
}

// SECTION(return type, name, (typed parameters), (argument names))
#define SECTION(ret, name, params, args) SECTION_TRY(ret, name, params, args, UNTRIED)

// SECTION_TRY: a SECTION with an attempt first (an expression of the
// arguments, see BLOCKS above).
#define SECTION_TRY(ret, name, params, args, attempt)          \
  GREEN_EXPORT ret name params {                               \
    static auto real = next<ret(*) params>(nullptr, #name);    \
    if (green::on_green()) {                                   \
      long r_ = attempt;                                       \
      if (r_ == BLOCKS) green::syscall_expect_block();         \
      else if (r_ != UNTRIED) return (ret)sys_result(r_);      \
    }                                                          \
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
#define POINT(ret, name, params, args, sys) POINT_TRY(ret, name, params, args, sys, UNTRIED)

// POINT_TRY: a POINT with an attempt first (see BLOCKS above).
#define POINT_TRY(ret, name, params, args, sys, attempt)       \
  GREEN_EXPORT ret name params {                               \
    static auto real = next<ret(*) params>(nullptr, #name);    \
    if (!green::on_green()) return real args;                  \
    green::testcancel();                                       \
    long r_ = attempt;                                         \
    if (r_ == BLOCKS) green::syscall_expect_block();           \
    else if (r_ != UNTRIED) return (ret)sys_result(r_);        \
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
// fsync and its kin, and pause, always wait: no attempt.
POINT_TRY(int, fsync, (int fd), (fd), (SYS_fsync, fd), BLOCKS)
POINT_TRY(int, fdatasync, (int fd), (fd), (SYS_fdatasync, fd), BLOCKS)
SECTION_TRY(int, syncfs, (int fd), (fd), BLOCKS)
SECTION_TRY(void, sync, (void), (), BLOCKS)
POINT_TRY(int, sync_file_range, (int fd, off64_t o, off64_t n, unsigned f), (fd, o, n, f),
          (SYS_sync_file_range, fd, o, n, f),
          f & (SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER) ? BLOCKS : UNTRIED)
POINT_TRY(pid_t, waitpid, (pid_t p, int* st, int o), (p, st, o), (SYS_wait4, p, (long)st, o, 0),
          try_wait4(p, st, o, nullptr))
POINT_TRY(pid_t, wait, (int* st), (st), (SYS_wait4, -1, (long)st, 0, 0), try_wait4(-1, st, 0, nullptr))
POINT_TRY(pid_t, wait3, (int* st, int o, struct rusage* r), (st, o, r),
          (SYS_wait4, -1, (long)st, o, (long)r), try_wait4(-1, st, o, r))
POINT_TRY(pid_t, wait4, (pid_t p, int* st, int o, struct rusage* r), (p, st, o, r),
          (SYS_wait4, p, (long)st, o, (long)r), try_wait4(p, st, o, r))
POINT_TRY(int, waitid, (idtype_t t, id_t id, siginfo_t* i, int o), (t, id, i, o),
          (SYS_waitid, t, id, (long)i, o, 0), try_waitid(t, id, i, o))
SECTION_TRY(int, flock, (int fd, int op), (fd, op), try_flock(fd, op))
POINT_TRY(int, pause, (void), (), (SYS_pause), BLOCKS)
POINT_TRY(ssize_t, msgrcv, (int q, void* m, size_t n, long t, int f), (q, m, n, t, f),
          (SYS_msgrcv, q, (long)m, (long)n, t, f), try_msgrcv(q, m, n, t, f))
POINT_TRY(int, msgsnd, (int q, const void* m, size_t n, int f), (q, m, n, f),
          (SYS_msgsnd, q, (long)m, (long)n, f), try_msgsnd(q, m, n, f))

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
    long r = try_lock(fd, F_SETLKW, &fl);                                       \
    if (r != BLOCKS) return (int)sys_result(r);                                 \
    green::syscall_expect_block();                                              \
    return (int)green::shim::cancel_syscall(SYS_fcntl, fd, F_SETLKW, (long)&fl); \
  }
LOCKF_LIKE(lockf)
LOCKF_LIKE(lockf64)
SECTION_TRY(int, semop, (int s, struct sembuf* o, size_t n), (s, o, n), try_semop(s, o, n))
SECTION_TRY(int, semtimedop, (int s, struct sembuf* o, size_t n, const struct timespec* t), (s, o, n, t),
            try_semop(s, o, n))
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
    long r = try_lock(fd, cmd, arg);                                      \
    if (r != BLOCKS) return (int)sys_result(r);                           \
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
