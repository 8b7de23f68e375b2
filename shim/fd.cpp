// The descriptor table of the shim: facts learned about each fd, the pins
// of calls blocked on it, and hidden copies of files closed under them
// (fd.h explains why). Invariants:
//  - a slot's pins and hidden pointer change only under its lock; a pin's
//    ref is set once, under the lock of the slot it was linked on, and from
//    then on the pin is off every list and owns one count of that ref;
//  - a file moves to a hidden descriptor before the application's number
//    is closed, and the netpoller forgets the number before it is closed,
//    so a parked waiter never sees the file that reuses the number;
//  - lock order: an application's slot, then the netpoller's descriptor
//    lock; a slot lock is held only for short, non-parking work (a close
//    that blocks on NFS runs inside it, in a syscall section).
#include "fd.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <new>

#include "os.h"
#include "shim.h"

namespace green::shim {

struct fileref {
  std::atomic<int> fd;    // the hidden descriptor (-1: lost, see relocate)
  std::atomic<int> refs;  // pins still using it
};

namespace {

constexpr int BLOCK = 1024;
constexpr int NBLOCKS = 4096;  // fds < 4M
std::atomic<fdinfo*> table[NBLOCKS];
std::atomic<uint32_t> epoch{1};
std::atomic<bool> atfork_registered{false};

long sys(long n, long a = 0, long b = 0, long c = 0) { return os::syscall6(n, a, b, c); }

void lock(fdinfo* f) {
  while (f->lk.exchange(1, std::memory_order_acquire))
    while (f->lk.load(std::memory_order_relaxed)) green::yield();
}
void unlock(fdinfo* f) { f->lk.store(0, std::memory_order_release); }

void reset(fdinfo* f) {
  f->kind.store(FD_UNKNOWN, std::memory_order_release);
  f->nonblock.store(0, std::memory_order_relaxed);
  f->inet_stream.store(0, std::memory_order_relaxed);
  f->tcp.store(0, std::memory_order_relaxed);
  f->owned.store(0, std::memory_order_relaxed);
  f->flipped.store(0, std::memory_order_relaxed);
  f->rcvtimeo_ns.store(0, std::memory_order_relaxed);
  f->sndtimeo_ns.store(0, std::memory_order_relaxed);
}

// In the child of fork no call is blocked: hidden copies are closed and
// every slot starts empty (a lock held by a vanished M included). In both
// processes every description is shared now.
void atfork_parent() { epoch.fetch_add(1, std::memory_order_relaxed); }
void atfork_child() {
  epoch.fetch_add(1, std::memory_order_relaxed);
  for (int b = 0; b < NBLOCKS; b++) {
    fdinfo* blk = table[b].load(std::memory_order_relaxed);
    if (!blk) continue;
    for (int i = 0; i < BLOCK; i++) {
      fdinfo* f = &blk[i];
      if (f->hidden.load(std::memory_order_relaxed)) sys(SYS_close, b * BLOCK + i);
      f->hidden.store(nullptr, std::memory_order_relaxed);
      f->pins = nullptr;
      f->lk.store(0, std::memory_order_relaxed);
    }
  }
}

void register_atfork() {
  if (atfork_registered.load(std::memory_order_acquire)) return;
  bool expected = false;
  if (atfork_registered.compare_exchange_strong(expected, true))
    pthread_atfork(nullptr, atfork_parent, atfork_child);
}

// A fresh hidden copy of fd's file that ref will own; false if none.
bool hide(int fd, fileref* ref) {
  long h = sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, os::high_fd_base());  // see os.h
  if (h < 0) return false;
  fdinfo* hf = fd_info((int)h);
  if (!hf) {
    sys(SYS_close, h);
    return false;
  }
  reset(hf);
  hf->hidden.store(ref, std::memory_order_release);
  ref->fd.store((int)h, std::memory_order_release);
  register_atfork();
  return true;
}

// fd (slot f, locked) stops naming its file: give its pins a hidden copy.
void move_pins(int fd, fdinfo* f) {
  if (!f->pins) return;
  int n = 0;
  for (pin* p = f->pins; p; p = p->next) n++;
  auto* ref = static_cast<fileref*>(malloc(sizeof(fileref)));
  if (!ref) return;  // the pins then see EBADF, the old behaviour
  new (ref) fileref();
  ref->refs.store(n, std::memory_order_relaxed);
  if (!hide(fd, ref)) {
    free(ref);
    return;
  }
  for (pin *p = f->pins, *next; p; p = next) {
    next = p->next;
    p->prev = p->next = nullptr;
    p->ref.store(ref, std::memory_order_release);
  }
  f->pins = nullptr;
}

// The last pin of ref ended: close the hidden copy wherever it now is.
void drop(fileref* ref) {
  if (ref->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  for (;;) {
    int h = ref->fd.load(std::memory_order_acquire);
    if (h < 0) break;
    fdinfo* hf = fd_info(h);
    lock(hf);
    bool mine = hf->hidden.load(std::memory_order_relaxed) == ref;
    if (mine) {
      hf->hidden.store(nullptr, std::memory_order_relaxed);
      green::netpoll_close(h);
      sys(SYS_close, h);
    }
    unlock(hf);
    if (mine) break;
  }
  ref->~fileref();
  free(ref);
}

}  // namespace

fdinfo* fd_info(int fd) {
  if (fd < 0 || fd / BLOCK >= NBLOCKS) return nullptr;
  std::atomic<fdinfo*>& slot = table[fd / BLOCK];
  fdinfo* b = slot.load(std::memory_order_acquire);
  if (!b) {
    auto* fresh = static_cast<fdinfo*>(calloc(BLOCK, sizeof(fdinfo)));
    if (!fresh) return nullptr;
    if (!slot.compare_exchange_strong(b, fresh)) free(fresh);
    else b = fresh;
  }
  return &b[fd % BLOCK];
}

// Anonymous inodes have no file type bits. Those whose read waits for an
// event that poll reports are pollable; the others (epoll, pidfd,
// perf_event, bpf, io_uring: read fails or returns at once, and poll may
// never report them ready) go to a syscall section.
static bool pollable_anon(int fd) {
  static const char* const kinds[] = {"anon_inode:[eventfd]", "anon_inode:[timerfd]",
                                      "anon_inode:[signalfd]", "anon_inode:inotify",
                                      "anon_inode:[fanotify]", "anon_inode:[userfaultfd]"};
  char path[40], name[64];
  int n = snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  if (n <= 0 || n >= (int)sizeof path) return false;
  long len = os::syscall6(SYS_readlinkat, AT_FDCWD, (long)path, (long)name, sizeof name - 1);
  if (len <= 0) return false;
  name[len] = 0;
  for (const char* k : kinds)
    if (!strcmp(name, k)) return true;
  return false;
}

// A socket this process did not make (inherited, passed): TCP without an
// upper-layer protocol (kernel TLS reads stop at record boundaries)?
static bool plain_tcp(int fd) {
  int proto = 0;
  socklen_t len = sizeof proto;
  if (os::syscall6(SYS_getsockopt, fd, SOL_SOCKET, SO_PROTOCOL, (long)&proto, (long)&len) != 0 ||
      proto != IPPROTO_TCP)
    return false;
  char ulp[16];
  len = sizeof ulp;
  return os::syscall6(SYS_getsockopt, fd, IPPROTO_TCP, TCP_ULP, (long)ulp, (long)&len) == 0 &&
         len == 0;
}

fdinfo* fd_classify(int fd) {
  fdinfo* f = fd_info(fd);
  if (!f) return nullptr;
  if (f->kind.load(std::memory_order_acquire) != FD_UNKNOWN) return f;
  struct stat st;
  if (sys(SYS_fstat, fd, (long)&st) != 0) return nullptr;
  long fl = sys(SYS_fcntl, fd, F_GETFL);
  if (fl < 0) return nullptr;
  f->nonblock.store((fl & O_NONBLOCK) != 0, std::memory_order_relaxed);
  mode_t t = st.st_mode & S_IFMT;
  if (t == S_IFSOCK) f->tcp.store(plain_tcp(fd), std::memory_order_relaxed);
  uint8_t k = t == S_IFSOCK                                          ? FD_SOCKET
              : (t == S_IFIFO || t == S_IFCHR || (t == 0 && pollable_anon(fd))) ? FD_POLLABLE
                                                                                : FD_FILE;
  f->kind.store(k, std::memory_order_release);
  return f;
}

// A new file at fd: the netpoller forgets a registration left by a close
// it did not see (glibc's own, as fclose), or it would wait on the old file.
void fd_forget(int fd) {
  if (fdinfo* f = fd_info(fd)) reset(f);
  green::netpoll_close(fd);
}

void fd_new_socket(int fd, bool nonblock, bool inet_stream, bool tcp, uint32_t owned) {
  fdinfo* f = fd_info(fd);
  if (!f) return;
  fd_forget(fd);
  f->nonblock.store(nonblock, std::memory_order_relaxed);
  f->inet_stream.store(inet_stream, std::memory_order_relaxed);
  f->tcp.store(tcp, std::memory_order_relaxed);
  f->owned.store(owned, std::memory_order_relaxed);
  f->kind.store(FD_SOCKET, std::memory_order_release);
}

bool fd_hidden(int fd) {
  fdinfo* f = fd_info(fd);
  return f && f->hidden.load(std::memory_order_acquire);
}

bool fd_busy(int fd) {
  fdinfo* f = fd_info(fd);
  if (!f) return false;
  lock(f);
  bool busy = !f->hidden.load(std::memory_order_relaxed) &&
              (f->pins || f->kind.load(std::memory_order_relaxed) != FD_UNKNOWN);
  unlock(f);
  return busy;
}

int fd_known_limit() {
  for (int b = NBLOCKS - 1; b >= 0; b--)
    if (table[b].load(std::memory_order_acquire)) return (b + 1) * BLOCK;
  return 0;
}

void fd_set_nonblock(int fd, bool on) {
  if (fdinfo* f = fd_info(fd)) f->nonblock.store(on, std::memory_order_relaxed);
}

bool fd_flipped(int fd) {
  fdinfo* f = fd_info(fd);
  return f && f->flipped.load(std::memory_order_relaxed);
}

int pin::fd() const {
  fileref* r = ref.load(std::memory_order_acquire);
  return r ? r->fd.load(std::memory_order_acquire) : orig;
}

void pin::hold() {
  fdinfo* f = fd_info(orig);
  if (!f || linked) return;
  lock(f);
  next = f->pins;
  prev = nullptr;
  if (next) next->prev = this;
  f->pins = this;
  unlock(f);
  linked = true;
}

void pin::release() {
  if (!linked) return;
  linked = false;
  fileref* r = ref.load(std::memory_order_acquire);
  if (!r) {
    fdinfo* f = fd_info(orig);
    lock(f);
    r = ref.load(std::memory_order_acquire);
    if (!r) {
      if (prev) prev->next = next;
      else f->pins = next;
      if (next) next->prev = prev;
    }
    unlock(f);
  }
  if (r) drop(r);
}

int fd_retire(int fd, fd_end how, int (*op)(int, void*), void* ctx) {
  fdinfo* f = fd_info(fd);
  if (!f) {
    green::netpoll_close(fd);
    return op(fd, ctx);
  }
  lock(f);
  if (fileref* ref = f->hidden.load(std::memory_order_relaxed)) {
    if (how == fd_end::close) {  // the application never had this number
      unlock(f);
      errno = EBADF;
      return -1;
    }
    // dup2/dup3 onto our copy: move the copy once more (or lose it: its
    // pins then see EBADF)
    if (!hide(fd, ref)) ref->fd.store(-1, std::memory_order_release);
    f->hidden.store(nullptr, std::memory_order_relaxed);
  }
  move_pins(fd, f);
  green::netpoll_close(fd);  // wakes parked pins: they retry on the copy
  reset(f);
  int r = op(fd, ctx);
  int e = errno;
  unlock(f);
  errno = e;
  return r;
}

uint32_t share_epoch() {
  register_atfork();
  return epoch.load(std::memory_order_acquire);
}

void shared_all() { epoch.fetch_add(1, std::memory_order_acq_rel); }

void shared(int fd) {
  if (fdinfo* f = fd_info(fd)) f->owned.store(0, std::memory_order_release);
}

}  // namespace green::shim
