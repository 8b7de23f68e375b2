/* Blocking calls made through syscall(SYS_xxx, ...) instead of their libc
 * names: same results as the libc calls, other threads keep running
 * while they block, and under libgreen the I/O ones park (no kernel thread
 * inside them: KERNEL_BLOCKED lines, checked by run.sh); wait4 blocks in a
 * syscall section. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common.h"

static int p[2], sv[2], lsock, ep;
static struct sockaddr_in addr;
static char c;

static long raw_read(long fd) { return syscall(SYS_read, fd, &c, 1); }
static long raw_readv(long fd) {
  struct iovec v = {&c, 1};
  return syscall(SYS_readv, fd, &v, 1);
}
static long raw_recvfrom(long fd) { return syscall(SYS_recvfrom, fd, &c, 1, 0, NULL, NULL); }
static long raw_accept(long fd) { return syscall(SYS_accept, fd, NULL, NULL); }
static long raw_accept4(long fd) { return syscall(SYS_accept4, fd, NULL, NULL, SOCK_CLOEXEC); }
static short revents;
static long raw_poll(long fd) {
  struct pollfd pf = {fd, POLLIN, 0};
  long r = syscall(SYS_poll, &pf, 1, -1);
  revents = pf.revents;
  return r;
}
static long raw_ppoll(long fd) {
  struct pollfd pf = {fd, POLLIN, 0};
  long r = syscall(SYS_ppoll, &pf, 1, NULL, NULL, 8);
  revents = pf.revents;
  return r;
}
static long raw_select(long fd) {
  fd_set r;
  FD_ZERO(&r);
  FD_SET(fd, &r);
  return syscall(SYS_select, fd + 1, &r, NULL, NULL, NULL);
}
static long raw_pselect6(long fd) {
  fd_set r;
  FD_ZERO(&r);
  FD_SET(fd, &r);
  sigset_t none;
  sigemptyset(&none);
  long packed[2] = {(long)&none, 8};
  return syscall(SYS_pselect6, fd + 1, &r, NULL, NULL, NULL, packed);
}
static struct epoll_event out;
static long raw_epoll_wait(long e) { return syscall(SYS_epoll_wait, e, &out, 1, -1); }
static long raw_epoll_pwait(long e) { return syscall(SYS_epoll_pwait, e, &out, 1, -1, NULL, 8); }
static long raw_epoll_pwait2(long e) { return syscall(SYS_epoll_pwait2, e, &out, 1, NULL, NULL, 8); }

/* Run op(arg) in a thread; it must block (others running) until
 * trigger(), then return want. nr: the system call a blocked thread would
 * sit in natively. */
static void check(const char* what, op_fn op, long arg, long nr, void (*trigger)(void), long want) {
  long fd = nr == SYS_poll || nr == SYS_ppoll || nr == SYS_select || nr == SYS_pselect6 ? -1 : arg;
  struct job j;
  job_start(&j, op, arg);
  CHECK(job_blocked(&j), "%s returned %ld errno %d before its event", what, j.r, j.err);
  printf("KERNEL_BLOCKED %d (%s)\n", kernel_blocked_in(nr, fd), what);
  CHECK(counter_advances(), "%s: no other thread ran while it blocked", what);
  trigger();
  job_finish(&j);
  CHECK(j.r == want, "%s returned %ld errno %d, expected %ld", what, j.r, j.err, want);
}

static void write_pipe(void) { syscall(SYS_write, p[1], "x", 1); }
static void drain_pipe(void) { read(p[0], &c, 1); }
static long raw_write(long fd) { return syscall(SYS_write, fd, "w", 1); }
static char page[4096];
static void drain_page(void) { read(p[0], page, sizeof page); }
static void send_sock(void) { syscall(SYS_sendto, sv[1], "y", 1, 0, NULL, 0); }
static void connect_once(void) {
  int s = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
  CHECK(syscall(SYS_connect, s, &addr, sizeof addr) == 0, "raw connect: errno %d", errno);
  close(s);
}

int main(void) {
  counter_start();
  pipe(p);
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);

  check("SYS_read", raw_read, p[0], SYS_read, write_pipe, 1);
  check("SYS_readv", raw_readv, p[0], SYS_readv, write_pipe, 1);
  check("SYS_recvfrom", raw_recvfrom, sv[0], SYS_recvfrom, send_sock, 1);
  check("SYS_poll", raw_poll, p[0], SYS_poll, write_pipe, 1);
  drain_pipe();
  check("SYS_ppoll", raw_ppoll, p[0], SYS_ppoll, write_pipe, 1);
  drain_pipe();
  check("SYS_select", raw_select, p[0], SYS_select, write_pipe, 1);
  drain_pipe();
  check("SYS_pselect6", raw_pselect6, p[0], SYS_pselect6, write_pipe, 1);
  drain_pipe();
  ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  check("SYS_epoll_wait", raw_epoll_wait, ep, SYS_epoll_wait, write_pipe, 1);
  drain_pipe();
  check("SYS_epoll_pwait", raw_epoll_pwait, ep, SYS_epoll_pwait, write_pipe, 1);
  drain_pipe();
  check("SYS_epoll_pwait2", raw_epoll_pwait2, ep, SYS_epoll_pwait2, write_pipe, 1);
  drain_pipe();
  close(ep);

  /* a write into a full pipe: blocks until the reader drains a byte */
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  while (write(p[1], "z", 1) == 1) {}
  fcntl(p[1], F_SETFL, 0);
  check("SYS_write", raw_write, p[1], SYS_write, drain_page, 1);
  close(p[0]);
  close(p[1]);

  /* accept, accept4, connect */
  struct job j;
  lsock = socket(AF_INET, SOCK_STREAM, 0);
  addr = (struct sockaddr_in){.sin_family = AF_INET};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(lsock, (void*)&addr, sizeof addr);
  listen(lsock, 16);
  socklen_t al = sizeof addr;
  getsockname(lsock, (void*)&addr, &al);
  job_start(&j, raw_accept, lsock);
  CHECK(job_blocked(&j), "SYS_accept returned %ld", j.r);
  printf("KERNEL_BLOCKED %d (SYS_accept)\n", kernel_blocked_in(SYS_accept, lsock));
  connect_once();
  job_finish(&j);
  CHECK(j.r >= 0, "SYS_accept: %ld errno %d", j.r, j.err);
  close((int)j.r);
  job_start(&j, raw_accept4, lsock);
  CHECK(job_blocked(&j), "SYS_accept4 returned %ld", j.r);
  printf("KERNEL_BLOCKED %d (SYS_accept4)\n", kernel_blocked_in(SYS_accept4, lsock));
  connect_once();
  job_finish(&j);
  CHECK(j.r >= 0 && (fcntl((int)j.r, F_GETFD) & FD_CLOEXEC), "SYS_accept4: %ld errno %d", j.r, j.err);
  close((int)j.r);
  close(lsock);

  /* a raw close of an fd a raw read waits on: the read stays on its file */
  pipe(p);
  job_start(&j, raw_read, p[0]);
  CHECK(syscall(SYS_close, p[0]) == 0, "SYS_close: errno %d", errno);
  CHECK(job_blocked(&j), "SYS_read returned %ld errno %d after SYS_close", j.r, j.err);
  write(p[1], "o", 1);
  job_finish(&j);
  CHECK(j.r == 1 && c == 'o', "SYS_read after SYS_close: %ld", j.r);
  close(p[1]);

  /* sleeps */
  struct timespec ts = {0, 200000000};
  long before = counter;
  double t0 = now_s();
  CHECK(syscall(SYS_nanosleep, &ts, NULL) == 0, "SYS_nanosleep: errno %d", errno);
  CHECK(now_s() - t0 >= 0.199, "SYS_nanosleep returned early");
  CHECK(counter != before, "no other thread ran during SYS_nanosleep");
  before = counter;
  t0 = now_s();
  CHECK(syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &ts, NULL) == 0, "SYS_clock_nanosleep: errno %d", errno);
  CHECK(now_s() - t0 >= 0.199, "SYS_clock_nanosleep returned early");
  CHECK(counter != before, "no other thread ran during SYS_clock_nanosleep");
  struct timespec bad = {0, 2000000000};
  long r = syscall(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL);
  CHECK(r == -1 && errno == EINVAL, "SYS_clock_nanosleep with a bad time: %ld errno %d", r, errno);

  /* wait4 for a child that exits after 300 ms */
  pid_t child = fork();
  if (child == 0) {
    usleep(300000);
    _exit(7);
  }
  before = counter;
  int st = 0;
  r = syscall(SYS_wait4, child, &st, 0, NULL);
  CHECK(r == child && WIFEXITED(st) && WEXITSTATUS(st) == 7, "SYS_wait4: %ld status %#x", r, st);
  CHECK(counter != before, "no other thread ran during SYS_wait4");

  counter_end();
  printf("rawsys: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
