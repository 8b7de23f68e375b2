// The network poller: one epoll instance for every fd a G waits on.
//
// Each fd has a poll descriptor (pd) in a two-level table (stable
// addresses). The first wait on an fd registers it, edge-triggered, for
// both directions; it stays registered until netpoll_close (as Go's
// netpoller: no epoll_ctl per wait). Each direction has a readiness
// sequence number that every harvested edge bumps. A caller takes the
// number (netpoll_seq) before its attempt at the I/O; after EAGAIN it
// parks on the sequence word until the number differs from the one it
// took. Whoever harvests an event bumps the numbers and unparks the
// waiters: an idle M blocked in epoll_wait (the "poll M", sched.cpp's
// stopm; netpoll_break wakes it through an eventfd in the set), an M about
// to go idle (netpoll_poll), or sysmon when nobody has polled for a while
// (netpoll_sysmon). There is no poller thread of its own (as Go): the M
// that sees the events takes an idle P and runs their Gs itself.
//
// Invariants:
//  - an edge that comes after a caller's snapshot changes the number: the
//    waiter's validate compares it under the bucket lock, and the harvester
//    reads the waiter counts under the pd lock after bumping it, so an
//    edge between the attempt and the park is never lost; an edge before
//    the snapshot is one the attempt saw (the data was there). Every
//    waiter sees every edge, so two Gs waiting on one fd (threads sharing
//    a listening socket) never lose a wake-up to each other.
//  - registering reports the current level (EPOLL_CTL_ADD queues an event
//    for an fd already ready), so the first wait needs no snapshot order.
//  - The epoll user data carries fd and the pd's generation; netpoll_close
//    bumps the generation and wakes the waiters with EBADF, so an event for
//    a closed (and possibly reused) fd wakes nobody wrongly (a stale event
//    at worst causes a spurious retry, which callers handle).
//  - a drained hint (netpoll_drained: a TCP read begun at number n came
//    back short) says "empty" only while the number is still n and no
//    EOF, error, hang-up, urgent data or netpoll_ready was ever reported
//    for the fd (no_hints, set before the bump that reports it).
//  - while Gs wait for I/O, someone harvests: the poll M, or (every M
//    busy) an M out of local work, or sysmon within a millisecond.
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include <new>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

struct pd {
  lock mu;
  uint32_t gen = 0;
  bool added = false;  // fd is in the epoll set (edge-triggered, both directions)
  // EOF, an error, a hang-up or TCP urgent data was reported: a read may
  // return at once with no new data (0, an error, the bytes after the
  // urgent mark), so no drained hints on this descriptor any more.
  std::atomic<bool> no_hints{false};
  int rwaiters = 0, wwaiters = 0;
  std::atomic<uint32_t> rseq{0}, wseq{0};  // readiness edges seen, per direction
  std::atomic<uint64_t> drained{0};        // DRAINED | rseq of a read that emptied the queue
};

constexpr uint64_t DRAINED = 1ull << 32;

constexpr int BLOCK_BITS = 10;
constexpr int NBLOCKS = 1 << 12;  // fds < 4M
std::atomic<pd*> table[NBLOCKS];
lock table_mu;
std::atomic<int> epfd{-1};
int breakfd = -1;                       // eventfd in the set: netpoll_break
constexpr uint64_t BREAK_DATA = ~0ull;  // its epoll user data
std::atomic<int> nwaiters{0};
std::atomic<int64_t> last_poll{0};      // nanotime of the last harvest

pd* get_pd(int fd) {
  if (fd < 0 || (fd >> BLOCK_BITS) >= NBLOCKS) return nullptr;
  std::atomic<pd*>& slot = table[fd >> BLOCK_BITS];
  pd* block = slot.load(std::memory_order_acquire);
  if (!block) {
    lock_guard l(table_mu);
    block = slot.load(std::memory_order_relaxed);
    if (!block) {
      block = static_cast<pd*>(calloc(1 << BLOCK_BITS, sizeof(pd)));
      GREEN_CHECK(block, "out of memory for poll descriptors");
      for (int i = 0; i < (1 << BLOCK_BITS); i++) new (&block[i]) pd();
      slot.store(block, std::memory_order_release);
    }
  }
  return &block[fd & ((1 << BLOCK_BITS) - 1)];
}

int epoll_fd() {
  int e = epfd.load(std::memory_order_acquire);
  if (e >= 0) return e;
  lock_guard l(table_mu);
  e = epfd.load(std::memory_order_relaxed);
  if (e < 0) {
    e = (int)os::syscall6(SYS_epoll_create1, EPOLL_CLOEXEC);
    GREEN_CHECK2(e >= 0, "epoll_create1 failed", e, 0);
    e = os::move_high(e);  // the program's numbers stay its own (ownfd.cpp)
    breakfd = (int)os::syscall6(SYS_eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK);
    GREEN_CHECK2(breakfd >= 0, "eventfd for the netpoller failed", breakfd, 0);
    breakfd = os::move_high(breakfd);
    ownfd_add(e, nullptr, [](int now) { epfd.store(now, std::memory_order_release); });
    ownfd_add(breakfd, &breakfd, nullptr);
    struct epoll_event be;
    be.events = EPOLLIN;  // level-triggered: a break before the wait still ends it
    be.data.u64 = BREAK_DATA;
    long r = os::syscall6(SYS_epoll_ctl, e, EPOLL_CTL_ADD, breakfd, (long)&be);
    GREEN_CHECK2(r == 0, "epoll_ctl of the netpoller's eventfd failed", r, 0);
    epfd.store(e, std::memory_order_release);
  }
  return e;
}

// Register fd (p->mu held), once. Returns -errno.
int arm(int fd, pd* p) {
  struct epoll_event e;
  e.events = (uint32_t)EPOLLIN | (uint32_t)EPOLLOUT | (uint32_t)EPOLLRDHUP | (uint32_t)EPOLLPRI |
             (uint32_t)EPOLLET;
  e.data.u64 = (uint64_t)(uint32_t)fd | ((uint64_t)p->gen << 32);
  long r = os::syscall6(SYS_epoll_ctl, epoll_fd(), EPOLL_CTL_ADD, fd, (long)&e);
  if (r == -EEXIST)  // registered before a close we did not see: take it over
    r = os::syscall6(SYS_epoll_ctl, epoll_fd(), EPOLL_CTL_MOD, fd, (long)&e);
  if (r == 0) p->added = true;
  return (int)r;
}

struct seq_arg {
  uint32_t seen;
};
bool unchanged(const void* addr, const void* arg) {
  return static_cast<const std::atomic<uint32_t>*>(addr)->load(std::memory_order_acquire) ==
         static_cast<const seq_arg*>(arg)->seen;
}

void bump(std::atomic<uint32_t>& seq) {
  seq.store(seq.load(std::memory_order_relaxed) + 1, std::memory_order_release);  // under p->mu
}

// Deliver one harvested event.
void deliver(const struct epoll_event& e) {
  if (e.data.u64 == BREAK_DATA) return;
  int fd = (int)(uint32_t)e.data.u64;
  uint32_t gen = (uint32_t)(e.data.u64 >> 32);
  pd* p = get_pd(fd);
  if (!p) return;
  bool r = e.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
  bool w = e.events & (EPOLLOUT | EPOLLHUP | EPOLLERR);
  {
    lock_guard l(p->mu);
    if (p->gen != gen) return;
    if (e.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI)) {  // before the bump (see netpoll_drained)
      p->no_hints.store(true, std::memory_order_relaxed);
      p->drained.store(0, std::memory_order_relaxed);
    }
    if (r) bump(p->rseq);
    if (w) bump(p->wseq);
    r = r && p->rwaiters;
    w = w && p->wwaiters;
  }
  if (r) unpark_all(&p->rseq);
  if (w) unpark_all(&p->wseq);
}

}  // namespace

// The epoll instance is shared with the child through the inherited fd:
// a child that deregistered fds (its close() does EPOLL_CTL_DEL) would
// silently remove the parent's interest. The child drops it and every poll
// descriptor, and makes its own on first use; the poller thread is gone.
void netpoll_fork(fork_phase ph) {
  if (ph == fork_phase::prepare) return table_mu.acquire();
  if (ph == fork_phase::child) {
    int e = epfd.exchange(-1);
    ownfd_del(e);
    ownfd_del(breakfd);
    if (e >= 0) os::syscall6(SYS_close, e);
    if (breakfd >= 0) os::syscall6(SYS_close, breakfd);
    breakfd = -1;
    nwaiters.store(0, std::memory_order_relaxed);
    for (auto& slot : table)
      if (pd* block = slot.load(std::memory_order_relaxed))
        for (int i = 0; i < (1 << BLOCK_BITS); i++) new (&block[i]) pd();
  }
  table_mu.release();
}

uint32_t netpoll_seq(int fd, int mode) {
  pd* p = get_pd(fd);
  if (!p) return 0;
  return (mode == POLL_READ ? p->rseq : p->wseq).load(std::memory_order_acquire);
}

int netpoll_wait(int fd, int mode, int64_t deadline_ns, uint32_t seen) {
  pd* p = get_pd(fd);
  if (!p) return EBADF;
  std::atomic<uint32_t>& seq = mode == POLL_READ ? p->rseq : p->wseq;
  int& waiters = mode == POLL_READ ? p->rwaiters : p->wwaiters;
  uint32_t gen;
  {
    lock_guard l(p->mu);
    if (!p->added) {
      int r = arm(fd, p);
      if (r < 0) return r == -EPERM ? EPERM : (r == -EBADF ? EBADF : -r);
    }
    // An edge since the caller's snapshot: its attempt may have come
    // before the data; retry.
    if (seq.load(std::memory_order_relaxed) != seen) return 0;
    waiters++;
    gen = p->gen;
  }
  // The first waiter: an idle M asleep on its futex (idle since before
  // anyone waited) becomes the poll M; later ones find it there.
  if (nwaiters.fetch_add(1, std::memory_order_relaxed) == 0) netpoll_need_poller();
  wait_on why{mode == POLL_READ ? wait_kind::fd_read : wait_kind::fd_write,
              reinterpret_cast<const void*>((intptr_t)fd)};
  seq_arg arg{seen};
  park_result pr = park(&seq, unchanged, &arg, deadline_ns, CLOCK_MONOTONIC, why, true);
  // The last waiter gone (a timeout, close or signal, not an event): the
  // poll M leaves epoll_wait and sleeps as an idle M, so deadlock
  // detection sees every M idle again.
  if (nwaiters.fetch_sub(1, std::memory_order_relaxed) == 1) netpoll_break_if_polling();
  lock_guard l(p->mu);
  waiters--;
  if (p->gen != gen) return EBADF;  // closed meanwhile (the number may be reused already)
  bool changed = seq.load(std::memory_order_acquire) != seen;
  if (pr == park_result::timeout && !changed) return ETIMEDOUT;
  if (pr == park_result::interrupted) return EINTR;
  return 0;
}

void netpoll_close(int fd) {
  pd* p = get_pd(fd);
  if (!p) return;
  {
    lock_guard l(p->mu);
    p->drained.store(0, std::memory_order_relaxed);
    if (!p->added && !p->rwaiters && !p->wwaiters) return;
    p->gen++;
    p->no_hints.store(false, std::memory_order_relaxed);
    bool was_added = p->added;
    p->added = false;
    bump(p->rseq);  // also a caller between its snapshot and its park
    bump(p->wseq);
    if (was_added) os::syscall6(SYS_epoll_ctl, epoll_fd(), EPOLL_CTL_DEL, fd, 0);
  }
  unpark_all(&p->rseq);
  unpark_all(&p->wseq);
  // Each waiter took gen when it began: woken, it sees the new one and
  // says EBADF, however late it runs; a waiter on the reused number took
  // the new one. (A flag cleared by the last waiter out, with the closer
  // yielding until then, stayed set when a woken waiter did not get a CPU
  // in time, and the next wait on the reused number failed with EBADF.)
}

void netpoll_drained(int fd, uint32_t seq) {
  pd* p = get_pd(fd);
  if (!p) return;
  // No lock: deliver and netpoll_ready set no_hints before their release
  // bump, so a reader whose seq is still current sees it; a mark made as an
  // edge or a close bumps the number names an old seq and never matches.
  if (p->rseq.load(std::memory_order_acquire) == seq && !p->no_hints.load(std::memory_order_relaxed))
    p->drained.store(DRAINED | seq, std::memory_order_relaxed);
}

bool netpoll_empty(int fd, uint32_t seq) {
  pd* p = get_pd(fd);
  return p && p->drained.load(std::memory_order_relaxed) == (DRAINED | seq) &&
         p->rseq.load(std::memory_order_acquire) == seq;
}

int netpoll_waiting() { return nwaiters.load(std::memory_order_relaxed); }

// ---- netpoll_ready: events the kernel does not report through epoll ----
// A unix socket's own shutdown(SHUT_WR) wakes a blocked sender in the
// kernel but sets no poll bit, so epoll never reports it: the shim tells
// the waiters here to retry (they park again if nothing changed for them).
void netpoll_ready(int fd, int mode) {
  pd* p = get_pd(fd);
  if (!p) return;
  bool r, w;
  {
    lock_guard l(p->mu);
    p->no_hints.store(true, std::memory_order_relaxed);  // a shut-down socket reads 0 at once
    p->drained.store(0, std::memory_order_relaxed);
    if (mode & POLL_READ) bump(p->rseq);  // also a caller between snapshot and park
    if (mode & POLL_WRITE) bump(p->wseq);
    r = (mode & POLL_READ) && p->rwaiters;
    w = (mode & POLL_WRITE) && p->wwaiters;
  }
  if (r) unpark_all(&p->rseq);
  if (w) unpark_all(&p->wseq);
}

// Non-blocking harvest, for an M about to go idle. Returns events delivered.
int netpoll_poll() {
  if (nwaiters.load(std::memory_order_relaxed) == 0) return 0;
  struct epoll_event evs[64];
  long n = os::syscall6(SYS_epoll_wait, epoll_fd(), (long)evs, 64, 0);
  last_poll.store(nanotime(), std::memory_order_relaxed);
  for (long i = 0; i < n; i++) deliver(evs[i]);
  return n > 0 ? (int)n : 0;
}

// The poll M's wait: until an event, the absolute deadline (0: none) or a
// break. Returns the events (break excluded) left in evs for
// netpoll_deliver, 0 on timeout, break or signal.
int netpoll_harvest(struct epoll_event* evs, int max, int64_t deadline_ns) {
  struct timespec ts, *tp = nullptr;
  if (deadline_ns > 0) {
    int64_t left = deadline_ns - nanotime();
    if (left < 0) left = 0;
    ts = {(time_t)(left / 1000000000), (long)(left % 1000000000)};
    tp = &ts;
  }
  int e = epoll_fd();
  long n = os::syscall6(SYS_epoll_pwait2, e, (long)evs, max, (long)tp, 0, 8);
  if (n == -ENOSYS)  // kernels before 5.11: millisecond timeouts, rounded up
    n = os::syscall6(SYS_epoll_wait, e, (long)evs, max,
                     tp ? (long)((ts.tv_sec * 1000000000 + ts.tv_nsec + 999999) / 1000000) : -1);
  last_poll.store(nanotime(), std::memory_order_relaxed);
  int k = 0;
  for (long i = 0; i < n; i++) {
    if (evs[i].data.u64 == BREAK_DATA) {
      uint64_t v;
      os::syscall6(SYS_read, breakfd, (long)&v, sizeof v);
      continue;
    }
    evs[k++] = evs[i];
  }
  return k;
}

void netpoll_deliver(const struct epoll_event* evs, int n) {
  for (int i = 0; i < n; i++) deliver(evs[i]);
}

// Wake the poll M out of epoll_wait (its stopm then re-checks its P, the
// timers and whether anyone still waits).
void netpoll_break() {
  if (epfd.load(std::memory_order_acquire) < 0) return;
  uint64_t one = 1;
  os::syscall6(SYS_write, breakfd, (long)&one, sizeof one);
}

// sysmon, each tick: while no M is blocked in epoll_wait (every M busy
// running Gs), harvest once a millisecond so I/O waiters still get their
// events to the global queue (Go's sysmon does this every 10 ms).
constexpr int64_t SYSMON_POLL_NS = 1000 * 1000;
void netpoll_sysmon(int64_t now) {
  if (nwaiters.load(std::memory_order_relaxed) == 0 || netpoll_polling()) return;
  if (now - last_poll.load(std::memory_order_relaxed) < SYSMON_POLL_NS) return;
  netpoll_poll();
}

}  // namespace green
