// Calls that can block in the kernel and cannot be made asynchronous run
// inside a syscall section (core/syscall.cpp): if one blocks, sysmon hands
// its P to another M and the P's other Gs keep running. A section costs two
// CASes when the call does not block. errno is the call's own.
#include <dlfcn.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

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
#define SECTION(ret, name, params, args)                       \
  GREEN_EXPORT ret name params {                               \
    static auto real = next<ret(*) params>(nullptr, #name);    \
    section in_kernel;                                         \
    return real args;                                          \
  }

SECTION(ssize_t, pread, (int fd, void* b, size_t n, off_t o), (fd, b, n, o))
SECTION(ssize_t, pread64, (int fd, void* b, size_t n, off_t o), (fd, b, n, o))
SECTION(ssize_t, pwrite, (int fd, const void* b, size_t n, off_t o), (fd, b, n, o))
SECTION(ssize_t, pwrite64, (int fd, const void* b, size_t n, off_t o), (fd, b, n, o))
SECTION(ssize_t, preadv, (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o))
SECTION(ssize_t, preadv64, (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o))
SECTION(ssize_t, pwritev, (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o))
SECTION(ssize_t, pwritev64, (int fd, const struct iovec* v, int n, off_t o), (fd, v, n, o))
SECTION(ssize_t, preadv2, (int fd, const struct iovec* v, int n, off_t o, int f), (fd, v, n, o, f))
SECTION(ssize_t, pwritev2, (int fd, const struct iovec* v, int n, off_t o, int f), (fd, v, n, o, f))
SECTION(int, fsync, (int fd), (fd))
SECTION(int, fdatasync, (int fd), (fd))
SECTION(int, syncfs, (int fd), (fd))
SECTION(void, sync, (void), ())
SECTION(int, sync_file_range, (int fd, off64_t o, off64_t n, unsigned f), (fd, o, n, f))
SECTION(pid_t, waitpid, (pid_t p, int* st, int o), (p, st, o))
SECTION(pid_t, wait, (int* st), (st))
SECTION(pid_t, wait3, (int* st, int o, struct rusage* r), (st, o, r))
SECTION(pid_t, wait4, (pid_t p, int* st, int o, struct rusage* r), (p, st, o, r))
SECTION(int, waitid, (idtype_t t, id_t id, siginfo_t* i, int o), (t, id, i, o))
SECTION(int, flock, (int fd, int op), (fd, op))
SECTION(int, lockf, (int fd, int cmd, off_t n), (fd, cmd, n))
SECTION(int, lockf64, (int fd, int cmd, off_t n), (fd, cmd, n))
SECTION(int, sigsuspend, (const sigset_t* s), (s))
SECTION(int, pause, (void), ())
SECTION(ssize_t, msgrcv, (int q, void* m, size_t n, long t, int f), (q, m, n, t, f))
SECTION(int, msgsnd, (int q, const void* m, size_t n, int f), (q, m, n, f))
SECTION(int, semop, (int s, struct sembuf* o, size_t n), (s, o, n))
SECTION(int, semtimedop, (int s, struct sembuf* o, size_t n, const struct timespec* t), (s, o, n, t))
SECTION(int, system, (const char* c), (c))
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

// Variadic calls: the optional argument is read as glibc does.
#define OPEN_LIKE(name, params, call_args)                                  \
  GREEN_EXPORT int name params {                                           \
    static auto real = next<int (*)(...)>(nullptr, #name);                 \
    mode_t mode = 0;                                                       \
    if (flags & (O_CREAT | __O_TMPFILE)) {                                 \
      va_list ap;                                                          \
      va_start(ap, flags);                                                 \
      mode = va_arg(ap, mode_t);                                           \
      va_end(ap);                                                          \
    }                                                                      \
    section in_kernel; /* opening a FIFO or a slow device blocks */       \
    return real call_args;                                                 \
  }
OPEN_LIKE(open, (const char* path, int flags, ...), (path, flags, mode))
OPEN_LIKE(open64, (const char* path, int flags, ...), (path, flags, mode))
OPEN_LIKE(openat, (int dir, const char* path, int flags, ...), (dir, path, flags, mode))
OPEN_LIKE(openat64, (int dir, const char* path, int flags, ...), (dir, path, flags, mode))

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
      return r;                                                           \
    }                                                                     \
    section in_kernel;                                                    \
    return real(fd, cmd, arg);                                            \
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
