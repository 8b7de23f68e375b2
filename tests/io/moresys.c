/* More blocking calls, natively and under libgreen, each while another
 * thread counts: sigsuspend (a syscall section under libgreen),
 * epoll_pwait2, recvmmsg and sendmmsg (netpoller), splice, tee,
 * vmsplice and sendfile on pipes and sockets (netpoller, then the call),
 * copy_file_range (a section). Facts (probed natively): a blocking
 * recvmmsg collects vlen datagrams; its timeout is checked only after a
 * datagram arrives (one queued + 100 ms timeout: it still waits for the
 * second, then returns 2); MSG_WAITFORONE returns what is queued. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "common.h"

/* Start op(arg): it must block while the counter runs; then trigger. */
static struct job* begin(struct job* j, const char* what, op_fn op, long arg, long nr, long fd) {
  job_start(j, op, arg);
  CHECK(job_blocked(j), "%s returned %ld errno %d before its event", what, j->r, j->err);
  if (nr >= 0) printf("KERNEL_BLOCKED %d (%s)\n", kernel_blocked_in(nr, fd), what);
  CHECK(counter_advances(), "%s: no other thread ran while it blocked", what);
  return j;
}

static volatile int got_usr2;
static void on_usr2(int sig) { got_usr2 = sig; }
static long op_sigsuspend(long unused) {
  (void)unused;
  sigset_t none;
  sigemptyset(&none);
  return sigsuspend(&none);
}

static struct epoll_event evs[2];
static long op_pwait2(long ep) { return epoll_pwait2(ep, evs, 2, NULL, NULL); }

enum { VLEN = 4 };
static struct mmsghdr mm[VLEN];
static char mbuf[VLEN][16];
static struct iovec miov[VLEN];
static struct timespec mtimeout;
static void mm_reset(void) {
  for (int i = 0; i < VLEN; i++) {
    miov[i] = (struct iovec){mbuf[i], sizeof mbuf[i]};
    memset(&mm[i], 0, sizeof mm[i]);
    mm[i].msg_hdr.msg_iov = &miov[i];
    mm[i].msg_hdr.msg_iovlen = 1;
  }
}
static long op_recvmmsg(long fd) { return recvmmsg(fd, mm, VLEN, 0, NULL); }
static long op_recvmmsg_timeout(long fd) { return recvmmsg(fd, mm, VLEN, 0, &mtimeout); }
static long op_sendmmsg(long fd) { return sendmmsg(fd, mm, VLEN, 0); }

static int p[2], q[2], sv[2];
static long op_splice(long unused) {
  (void)unused;
  return splice(p[0], NULL, sv[0], NULL, 100, 0);
}
static long op_tee(long unused) {
  (void)unused;
  return tee(p[0], q[1], 100, 0);
}
static char page[4096];
static long op_vmsplice(long fd) {
  struct iovec v = {page, sizeof page};
  return vmsplice(fd, &v, 1, 0);
}
static int file;
static long op_sendfile(long out) {
  off_t off = 0;
  return sendfile(out, file, &off, 4096);
}

static void sigsuspend_case(void) {
  struct job j;
  begin(&j, "sigsuspend", op_sigsuspend, 0, -1, -1);
  kill(getpid(), SIGUSR2);  /* blocked everywhere but in sigsuspend */
  job_finish(&j);
  CHECK(j.r == -1 && j.err == EINTR && got_usr2 == SIGUSR2, "sigsuspend: %ld errno %d sig %d", j.r, j.err,
        got_usr2);
}

static void pwait2_case(void) {
  struct job j;
  pipe(p);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  struct timespec ts = {0, 100000000};
  double t0 = now_s();
  CHECK(epoll_pwait2(ep, evs, 2, &ts, NULL) == 0, "epoll_pwait2 timeout");
  CHECK(now_s() - t0 >= 0.099, "epoll_pwait2 returned early");
  begin(&j, "epoll_pwait2", op_pwait2, ep, SYS_epoll_pwait2, ep);
  write(p[1], "x", 1);
  job_finish(&j);
  CHECK(j.r == 1 && (evs[0].events & EPOLLIN), "epoll_pwait2: %ld", j.r);
  close(ep);
  close(p[0]);
  close(p[1]);
}

static void mmsg_cases(void) {
  struct job j;
  socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
  /* vlen datagrams: one queued is not enough */
  mm_reset();
  send(sv[1], "a", 1, 0);
  begin(&j, "recvmmsg", op_recvmmsg, sv[0], SYS_recvmmsg, sv[0]);
  for (int i = 0; i < VLEN - 1; i++) send(sv[1], "b", 1, 0);
  job_finish(&j);
  CHECK(j.r == VLEN && mm[0].msg_len == 1 && mbuf[VLEN - 1][0] == 'b', "recvmmsg: %ld", j.r);
  /* MSG_WAITFORONE: what is queued */
  mm_reset();
  send(sv[1], "c", 1, 0);
  send(sv[1], "d", 1, 0);
  long r = recvmmsg(sv[0], mm, VLEN, MSG_WAITFORONE, NULL);
  CHECK(r == 2 && mbuf[1][0] == 'd', "recvmmsg MSG_WAITFORONE: %ld", r);
  /* the timeout counts only after a datagram */
  mm_reset();
  mtimeout = (struct timespec){0, 100000000};
  send(sv[1], "e", 1, 0);
  begin(&j, "recvmmsg with a timeout", op_recvmmsg_timeout, sv[0], SYS_recvmmsg, sv[0]);
  send(sv[1], "f", 1, 0);
  job_finish(&j);
  CHECK(j.r == 2 && mbuf[1][0] == 'f', "recvmmsg with a timeout: %ld", j.r);
  CHECK(mtimeout.tv_sec == 0 && mtimeout.tv_nsec == 0, "time left %ld.%09ld", (long)mtimeout.tv_sec,
        mtimeout.tv_nsec);
  /* sendmmsg into a full receive queue: waits for room, sends all */
  int sent = 0;
  while (send(sv[1], "g", 1, MSG_DONTWAIT) == 1) sent++;
  mm_reset();
  for (int i = 0; i < VLEN; i++) miov[i].iov_len = 1;
  begin(&j, "sendmmsg", op_sendmmsg, sv[1], SYS_sendmmsg, sv[1]);
  char c;
  for (int i = 0; i < sent + VLEN; i++) recv(sv[0], &c, 1, 0);
  job_finish(&j);
  CHECK(j.r == VLEN, "sendmmsg: %ld errno %d", j.r, j.err);
  close(sv[0]);
  close(sv[1]);
}

static void splice_cases(void) {
  struct job j;
  char buf[128];
  /* splice from an empty pipe into a socket */
  pipe(p);
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  begin(&j, "splice", op_splice, 0, SYS_splice, p[0]);
  write(p[1], "spliced", 7);
  job_finish(&j);
  CHECK(j.r == 7 && recv(sv[1], buf, sizeof buf, 0) == 7 && !memcmp(buf, "spliced", 7), "splice: %ld", j.r);
  close(sv[0]);
  close(sv[1]);
  /* tee from an empty pipe */
  pipe(q);
  begin(&j, "tee", op_tee, 0, SYS_tee, p[0]);
  write(p[1], "teed", 4);
  job_finish(&j);
  CHECK(j.r == 4 && read(q[0], buf, sizeof buf) == 4 && read(p[0], buf, sizeof buf) == 4, "tee: %ld", j.r);
  close(q[0]);
  close(q[1]);
  /* vmsplice into a full pipe */
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  while (write(p[1], page, sizeof page) > 0) {}
  fcntl(p[1], F_SETFL, 0);
  begin(&j, "vmsplice", op_vmsplice, p[1], SYS_vmsplice, p[1]);
  read(p[0], page, sizeof page);
  job_finish(&j);
  CHECK(j.r > 0 && j.r <= (long)sizeof page, "vmsplice: %ld errno %d", j.r, j.err);
  close(p[0]);
  close(p[1]);
  /* sendfile into a socket whose peer's queue is full */
  FILE* tmp = tmpfile();
  file = fileno(tmp);
  write(file, page, sizeof page);
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  while (send(sv[0], page, sizeof page, MSG_DONTWAIT) > 0) {}
  begin(&j, "sendfile", op_sendfile, sv[0], SYS_sendfile, sv[0]);
  fcntl(sv[1], F_SETFL, O_NONBLOCK);
  while (!__atomic_load_n(&j.done, __ATOMIC_SEQ_CST))
    if (read(sv[1], page, sizeof page) <= 0) usleep(1000);
  job_finish(&j);
  CHECK(j.r == 4096, "sendfile: %ld errno %d", j.r, j.err);
  close(sv[0]);
  close(sv[1]);
  /* copy_file_range between regular files */
  FILE* tmp2 = tmpfile();
  loff_t in_off = 0;
  long r = copy_file_range(file, &in_off, fileno(tmp2), NULL, 4096, 0);
  CHECK(r == 4096, "copy_file_range: %ld errno %d", r, errno);
  fclose(tmp2);
  fclose(tmp);
}

int main(void) {
  /* SIGUSR2 reaches only the thread in sigsuspend: blocked before any
   * thread exists, so every thread inherits the mask */
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigprocmask(SIG_BLOCK, &usr2, NULL);
  signal(SIGUSR2, on_usr2);
  counter_start();
  sigsuspend_case();
  pwait2_case();
  mmsg_cases();
  splice_cases();
  counter_end();
  printf("moresys: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
