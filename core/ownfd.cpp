// Descriptors of libgreen's own: the netpoller's epoll set and eventfd,
// the unwinder's pipe (libunwind validates addresses by writing them into
// a pipe), kept /proc files.
//
// The program never got these numbers, so natively they are free: its
// open() must not be handed a number lower than a free one because of
// them, and its close(), closefrom(), close_range() and dup2() must not
// take them away (a closed epoll set stops every wait for I/O; a pipe
// number the unwinder still holds and the program reuses would have the
// unwinder read, write and close the program's file).
//
// Invariants:
//  - Each lives at a number >= os::high_fd_base() (os::move_high), and
//    is registered with the place that holds its number (ownfd_add).
//  - The shim's close family leaves a registered number alone (close says
//    EBADF, as for any number the program does not have); dup2/dup3 onto
//    one first move ours to another number (ownfd_relocate) and update its
//    holder, then let the program have it.
//  - Registration and relocation take own_mu; ownfd_is reads without it
//    (a number being registered may be seen a moment late).
#include <fcntl.h>

#include <algorithm>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

constexpr int MAX_OWN = 16;

struct own {
  std::atomic<int> fd{-1};
  int* where = nullptr;            // holds the number, or
  void (*moved)(int now) = nullptr;  // is told the new one
};

own table[MAX_OWN];
std::atomic<int> lowest{1 << 30};  // no registered number is below this
lock own_mu;

void recompute_lowest() {  // own_mu held
  int lo = 1 << 30;
  for (auto& o : table) {
    int fd = o.fd.load(std::memory_order_relaxed);
    if (fd >= 0 && fd < lo) lo = fd;
  }
  lowest.store(lo, std::memory_order_release);
}

}  // namespace

void ownfd_add(int fd, int* where, void (*moved)(int)) {
  if (fd < 0) return;
  lock_guard l(own_mu);
  for (auto& o : table) {
    if (o.fd.load(std::memory_order_relaxed) >= 0) continue;
    o.where = where;
    o.moved = moved;
    o.fd.store(fd, std::memory_order_release);
    recompute_lowest();
    return;
  }
  diag("libgreen: more than %d descriptors of its own; descriptor %d is not protected\n", MAX_OWN, fd);
}

void ownfd_del(int fd) {
  if (fd < 0) return;
  lock_guard l(own_mu);
  for (auto& o : table)
    if (o.fd.load(std::memory_order_relaxed) == fd) o.fd.store(-1, std::memory_order_release);
  recompute_lowest();
}

bool ownfd_is(int fd) {
  if (fd < lowest.load(std::memory_order_acquire)) return false;
  for (auto& o : table)
    if (o.fd.load(std::memory_order_acquire) == fd) return true;
  return false;
}

int ownfd_highest() {
  int hi = -1;
  for (auto& o : table) hi = std::max(hi, o.fd.load(std::memory_order_acquire));
  return hi;
}

bool ownfd_relocate(int fd) {
  if (fd < lowest.load(std::memory_order_acquire)) return false;
  lock_guard l(own_mu);
  for (auto& o : table) {
    if (o.fd.load(std::memory_order_relaxed) != fd) continue;
    int now = (int)os::syscall6(SYS_fcntl, fd, F_DUPFD_CLOEXEC, os::high_fd_base());
    if (now < 0) return true;  // ours stays; the program's dup2 then replaces it
    o.fd.store(now, std::memory_order_release);
    if (o.where) __atomic_store_n(o.where, now, __ATOMIC_RELEASE);
    if (o.moved) o.moved(now);
    recompute_lowest();
    return true;  // fd is now a copy the program's dup2 replaces
  }
  return false;
}

void ownfd_fork(fork_phase ph) {
  if (ph == fork_phase::prepare)
    own_mu.acquire();
  else
    own_mu.release();
}

}  // namespace green
