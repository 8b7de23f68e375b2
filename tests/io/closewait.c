/* close / shutdown / dup2 / dup3 / close_range of a descriptor another
 * thread is blocked on. What Linux 6.x does (established with probes run
 * natively; this program checks the same facts natively and under
 * libgreen):
 *  - A blocked read/recv/write/send/accept holds a reference to the file,
 *    not to the number. close(), dup2()/dup3() over it or close_range() by
 *    another thread do NOT wake it: it keeps waiting on the old file until
 *    data, EOF, shutdown or (SO_RCVTIMEO) its timeout; the number is free
 *    at once (the next pipe()/open() gets it) and a new file there is none
 *    of the blocked call's business. accept keeps accepting connections.
 *  - shutdown(SHUT_RDWR or SHUT_RD) wakes a blocked reader with 0 (EOF);
 *    SHUT_WR leaves it blocked. A blocked writer is woken by SHUT_WR or
 *    SHUT_RDWR with the count it already sent, or EPIPE if none. A blocked
 *    accept gets EINVAL from SHUT_RD/SHUT_RDWR (TCP and AF_UNIX).
 *  - poll/select keep waiting after a close; the old file's next event
 *    (or the timeout) ends them with the closed fd reported: poll returns
 *    1 with POLLNVAL, select marks the fd in every set it was asked for and
 *    counts each. While poll waits, the polled file stays alive (a writer
 *    to the pipe does not get EPIPE). If the number was reused meanwhile,
 *    a write to the new file does not wake the poll; the old file's event
 *    does, and the new file's state is reported.
 *  - epoll_wait keeps waiting when a registered fd is closed (the last
 *    reference drops it from the set: a writer gets EPIPE, epoll_wait
 *    times out with 0); when the epoll fd itself is closed it keeps
 *    waiting and still reports the events of its set. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "common.h"

static char got_byte;
static long op_read(long fd) { return read(fd, &got_byte, 1); }
static long op_recv(long fd) { return recv(fd, &got_byte, 1, 0); }
enum { BIG = 1 << 20 };
static char big[BIG];
static long op_write_big(long fd) { return write(fd, big, 65536); }
static long op_send_big(long fd) { return send(fd, big, BIG, MSG_NOSIGNAL); }
static long op_send_one(long fd) { return send(fd, "1", 1, MSG_NOSIGNAL); }
static long op_accept(long fd) { return accept(fd, NULL, NULL); }
static short poll_revents;
static long op_poll(long fd) {
  struct pollfd p = {fd, POLLIN, 0};
  long r = poll(&p, 1, 2000);
  poll_revents = p.revents;
  return r;
}
static fd_set sel_r, sel_w, sel_e;
static long op_select(long fd) {
  FD_ZERO(&sel_r);
  FD_ZERO(&sel_w);
  FD_ZERO(&sel_e);
  FD_SET(fd, &sel_r);
  FD_SET(fd, &sel_e);
  struct timeval tv = {5, 0};
  return select(fd + 1, &sel_r, &sel_w, &sel_e, &tv);
}
static struct epoll_event ep_out[2];
static long op_epoll(long ep) { return epoll_wait(ep, ep_out, 2, 500); }
static long op_epoll_long(long ep) { return epoll_wait(ep, ep_out, 2, 10000); }

static int tcp_listener(struct sockaddr_in* sa) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  *sa = (struct sockaddr_in){.sin_family = AF_INET};
  sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, (void*)sa, sizeof *sa);
  listen(s, 16);
  socklen_t l = sizeof *sa;
  getsockname(s, (void*)sa, &l);
  return s;
}

/* A unix stream pair whose sv[0] send buffer is small. */
static void small_pair(int sv[2]) {
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  int sz = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
}

/* Marks the open descriptors (below 4096) in set; returns how many others
 * there are. */
static int open_fds(char set[4096], int mark) {
  int others = 0;
  DIR* d = opendir("/proc/self/fd");
  struct dirent* e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == dirfd(d)) continue;
    if (fd >= 4096) others++;
    else if (mark) set[fd] = 1;
    else if (!set[fd]) others++;
  }
  closedir(d);
  return others;
}

static void pipes(void) {
  struct job j;
  int p[2], q[2];

  /* close: the reader keeps waiting on the old pipe; the number is reused
   * by the next pipe(), whose data is not the reader's */
  pipe(p);
  job_start(&j, op_read, p[0]);
  close(p[0]);
  CHECK(job_blocked(&j), "read returned %ld errno %d after close", j.r, j.err);
  pipe(q);
  CHECK(q[0] == p[0], "the closed number %d was not reused (got %d)", p[0], q[0]);
  write(q[1], "n", 1);
  CHECK(job_blocked(&j), "read returned %ld after a write to the new pipe", j.r);
  write(p[1], "o", 1);
  job_finish(&j);
  CHECK(j.r == 1 && got_byte == 'o', "read after a write to the old pipe: %ld '%c'", j.r, got_byte);
  char c = 0;
  CHECK(read(q[0], &c, 1) == 1 && c == 'n', "the new pipe lost its byte ('%c')", c);
  close(q[0]);
  close(q[1]);
  close(p[1]);

  /* a child forked meanwhile has only descriptors the program had open */
  pipe(p);
  job_start(&j, op_read, p[0]);
  static char had[4096];
  open_fds(had, 1);
  close(p[0]);
  had[p[0]] = 0;
  pid_t child = fork();
  if (child == 0) _exit(open_fds(had, 0));
  int st;
  waitpid(child, &st, 0);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child of fork saw extra descriptors");
  write(p[1], "o", 1);
  job_finish(&j);
  CHECK(j.r == 1, "read after close and fork: %ld", j.r);
  close(p[1]);

  /* a reader cancelled while blocked leaves nothing behind: its fd is
   * closed, the number reused, a new reader blocks and is woken as usual */
  pipe(p);
  job_start(&j, op_read, p[0]);
  pthread_cancel(j.t);
  job_finish(&j);
  close(p[0]);
  CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE, "a cancelled reader still holds the read end");
  close(p[1]);
  pipe(p);
  job_start(&j, op_read, p[0]);
  close(p[0]);
  CHECK(job_blocked(&j), "read after a cancelled reader: %ld errno %d", j.r, j.err);
  write(p[1], "o", 1);
  job_finish(&j);
  CHECK(j.r == 1 && got_byte == 'o', "read after a cancelled reader: %ld", j.r);
  CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE, "the closed read end is still open somewhere");
  close(p[1]);

  /* close of both ends: EOF */
  pipe(p);
  job_start(&j, op_read, p[0]);
  close(p[0]);
  close(p[1]);
  job_finish(&j);
  CHECK(j.r == 0, "read after both ends closed: %ld errno %d", j.r, j.err);

  /* dup2 and dup3 over the fd: as close */
  for (int three = 0; three < 2; three++) {
    pipe(p);
    pipe(q);
    job_start(&j, op_read, p[0]);
    int r = three ? dup3(q[0], p[0], O_CLOEXEC) : dup2(q[0], p[0]);
    CHECK(r == p[0], "dup%d returned %d", three ? 3 : 2, r);
    write(q[1], "n", 1);
    CHECK(job_blocked(&j), "dup%d: read returned %ld errno %d", three ? 3 : 2, j.r, j.err);
    write(p[1], "o", 1);
    job_finish(&j);
    CHECK(j.r == 1 && got_byte == 'o', "dup%d: read got %ld '%c'", three ? 3 : 2, j.r, got_byte);
    c = 0;
    CHECK(read(p[0], &c, 1) == 1 && c == 'n', "dup%d: fd does not read the new pipe", three ? 3 : 2);
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
  }

  /* close_range over it: as close */
  pipe(p);
  job_start(&j, op_read, p[0]);
  CHECK(syscall(SYS_close_range, p[0], p[0], 0) == 0, "close_range: errno %d", errno);
  CHECK(job_blocked(&j), "read returned %ld errno %d after close_range", j.r, j.err);
  CHECK(fcntl(p[0], F_GETFD) == -1 && errno == EBADF, "close_range left fd %d open", p[0]);
  write(p[1], "o", 1);
  job_finish(&j);
  CHECK(j.r == 1 && got_byte == 'o', "read after close_range: %ld '%c'", j.r, got_byte);
  close(p[1]);

  /* a writer blocked on a full pipe keeps waiting after close(wfd); the
   * reader's close ends it with the count written (SIGPIPE is ignored) */
  pipe(p);
  fcntl(p[1], F_SETPIPE_SZ, 4096);
  job_start(&j, op_write_big, p[1]);
  close(p[1]);
  CHECK(job_blocked(&j), "write returned %ld errno %d after close", j.r, j.err);
  close(p[0]);
  job_finish(&j);
  CHECK(j.r > 0 && j.r < 65536, "write after the reader closed: %ld errno %d", j.r, j.err);
}

static void sockets(void) {
  struct job j;
  int sv[2];
  char c;

  /* close: recv keeps waiting; the peer's data ends it */
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  job_start(&j, op_recv, sv[0]);
  close(sv[0]);
  CHECK(job_blocked(&j), "recv returned %ld errno %d after close", j.r, j.err);
  send(sv[1], "x", 1, 0);
  job_finish(&j);
  CHECK(j.r == 1 && got_byte == 'x', "recv after the peer sent: %ld '%c'", j.r, got_byte);
  close(sv[1]);

  /* close does not cancel SO_RCVTIMEO: EAGAIN at the deadline */
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  struct timeval tv = {0, 500000};
  setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  double t0 = now_s();
  job_start(&j, op_recv, sv[0]);
  close(sv[0]);
  job_finish(&j);
  CHECK(j.r == -1 && j.err == EAGAIN, "recv with SO_RCVTIMEO after close: %ld errno %d", j.r, j.err);
  CHECK(now_s() - t0 >= 0.49, "SO_RCVTIMEO ended early: %.3f s", now_s() - t0);
  close(sv[1]);

  /* shutdown wakes a reader with EOF (RDWR, RD); SHUT_WR does not */
  int hows[] = {SHUT_RDWR, SHUT_RD};
  for (int i = 0; i < 2; i++) {
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    job_start(&j, op_recv, sv[0]);
    shutdown(sv[0], hows[i]);
    job_finish(&j);
    CHECK(j.r == 0, "recv after shutdown(%d): %ld errno %d", hows[i], j.r, j.err);
    close(sv[0]);
    close(sv[1]);
  }
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  job_start(&j, op_recv, sv[0]);
  shutdown(sv[0], SHUT_WR);
  CHECK(job_blocked(&j), "recv returned %ld after shutdown(SHUT_WR)", j.r);
  close(sv[1]);
  job_finish(&j);
  CHECK(j.r == 0, "recv after the peer closed: %ld", j.r);
  close(sv[0]);

  /* a writer blocked mid-send: shutdown(SHUT_WR/RDWR) ends it with the
   * count already sent */
  int whows[] = {SHUT_WR, SHUT_RDWR};
  for (int i = 0; i < 2; i++) {
    small_pair(sv);
    job_start(&j, op_send_big, sv[0]);
    shutdown(sv[0], whows[i]);
    job_finish(&j);
    CHECK(j.r > 0 && j.r < BIG, "send after shutdown(%d): %ld errno %d", whows[i], j.r, j.err);
    close(sv[0]);
    close(sv[1]);
  }
  /* ... and one that has sent nothing gets EPIPE */
  small_pair(sv);
  while (send(sv[0], big, 4096, MSG_DONTWAIT | MSG_NOSIGNAL) > 0) {}
  job_start(&j, op_send_one, sv[0]);
  shutdown(sv[0], SHUT_WR);
  job_finish(&j);
  CHECK(j.r == -1 && j.err == EPIPE, "send of nothing-yet after shutdown: %ld errno %d", j.r, j.err);
  close(sv[0]);
  close(sv[1]);
  /* close: the writer keeps waiting; the peer draining lets it finish */
  small_pair(sv);
  job_start(&j, op_send_big, sv[0]);
  close(sv[0]);
  CHECK(job_blocked(&j), "send returned %ld errno %d after close", j.r, j.err);
  long total = 0;
  ssize_t k;
  while (total < BIG && (k = read(sv[1], big, 65536)) > 0) total += k;
  job_finish(&j);
  CHECK(j.r == BIG && total == BIG, "send after close and drain: %ld, peer got %ld", j.r, total);
  close(sv[1]);
  (void)c;
}

static void accepts(void) {
  struct job j;
  struct sockaddr_in sa;

  /* close: accept keeps accepting on the old socket */
  int l = tcp_listener(&sa);
  job_start(&j, op_accept, l);
  close(l);
  CHECK(job_blocked(&j), "accept returned %ld errno %d after close", j.r, j.err);
  int c = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(connect(c, (void*)&sa, sizeof sa) == 0, "connect to the closed listener's port: errno %d", errno);
  job_finish(&j);
  CHECK(j.r >= 0, "accept after close + connect: %ld errno %d", j.r, j.err);
  if (j.r >= 0) close((int)j.r);
  close(c);

  /* shutdown: EINVAL */
  int hows[] = {SHUT_RDWR, SHUT_RD};
  for (int i = 0; i < 2; i++) {
    l = tcp_listener(&sa);
    job_start(&j, op_accept, l);
    shutdown(l, hows[i]);
    job_finish(&j);
    CHECK(j.r == -1 && j.err == EINVAL, "tcp accept after shutdown(%d): %ld errno %d", hows[i], j.r, j.err);
    close(l);
  }
  struct sockaddr_un un = {.sun_family = AF_UNIX};
  snprintf(un.sun_path, sizeof un.sun_path, "/tmp/green-closewait-%d", getpid());
  unlink(un.sun_path);
  l = socket(AF_UNIX, SOCK_STREAM, 0);
  bind(l, (void*)&un, sizeof un);
  listen(l, 4);
  job_start(&j, op_accept, l);
  shutdown(l, SHUT_RDWR);
  job_finish(&j);
  CHECK(j.r == -1 && j.err == EINVAL, "unix accept after shutdown: %ld errno %d", j.r, j.err);
  close(l);
  unlink(un.sun_path);
}

static void waits(void) {
  struct job j;
  int p[2], q[2];

  /* poll: the old file's event ends it, fd reported POLLNVAL; the file
   * stayed alive (no EPIPE for the writer) */
  pipe(p);
  job_start(&j, op_poll, p[0]);
  close(p[0]);
  CHECK(job_blocked(&j), "poll returned %ld after close", j.r);
  ssize_t w = write(p[1], "o", 1);
  CHECK(w == 1, "write to the polled pipe: %zd errno %d", w, errno);
  job_finish(&j);
  CHECK(j.r == 1 && poll_revents == POLLNVAL, "poll: %ld revents %#x", j.r, poll_revents);
  close(p[1]);

  /* poll, number reused: the new file's data does not wake it, the old
   * file's event does and the new file's state is reported */
  pipe(p);
  job_start(&j, op_poll, p[0]);
  close(p[0]);
  pipe(q);
  write(q[1], "n", 1);
  CHECK(job_blocked(&j), "poll returned %ld on the new file's data", j.r);
  write(p[1], "o", 1);
  job_finish(&j);
  CHECK(j.r == 1 && poll_revents == POLLIN, "poll after reuse: %ld revents %#x", j.r, poll_revents);
  close(p[1]);
  close(q[0]);
  close(q[1]);

  /* poll, no event: the timeout reports POLLNVAL */
  pipe(p);
  job_start(&j, op_poll, p[0]);
  close(p[0]);
  job_finish(&j);
  CHECK(j.r == 1 && poll_revents == POLLNVAL, "poll timeout after close: %ld revents %#x", j.r, poll_revents);
  close(p[1]);

  /* select: the fd in every set asked for */
  pipe(p);
  job_start(&j, op_select, p[0]);
  close(p[0]);
  CHECK(job_blocked(&j), "select returned %ld after close", j.r);
  write(p[1], "o", 1);
  job_finish(&j);
  CHECK(j.r == 2 && FD_ISSET(p[0], &sel_r) && FD_ISSET(p[0], &sel_e) && !FD_ISSET(p[0], &sel_w),
        "select after close: %ld errno %d", j.r, j.err);
  close(p[1]);

  /* epoll_wait, registered fd closed: dropped from the set */
  pipe(p);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  job_start(&j, op_epoll, ep);
  close(p[0]);
  w = write(p[1], "o", 1);
  CHECK(w == -1 && errno == EPIPE, "write after the registered reader closed: %zd errno %d", w, errno);
  job_finish(&j);
  CHECK(j.r == 0, "epoll_wait after its fd closed: %ld", j.r);
  close(p[1]);
  close(ep);

  /* epoll_wait, epoll fd closed: still waits, still reports */
  pipe(p);
  ep = epoll_create1(0);
  epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
  job_start(&j, op_epoll_long, ep);
  close(ep);
  CHECK(job_blocked(&j), "epoll_wait returned %ld errno %d after its epoll fd closed", j.r, j.err);
  write(p[1], "o", 1);
  job_finish(&j);
  CHECK(j.r == 1 && (ep_out[0].events & EPOLLIN), "epoll_wait on the closed epoll fd: %ld", j.r);
  close(p[0]);
  close(p[1]);
}

/* Many readers blocked on pipes whose numbers are closed and reused at
 * once, racing with the writes: nothing hangs, every byte is read exactly
 * once (by the blocked reader or from the pipe afterwards). */
enum { PAIRS = 8, ROUNDS = 60 };
static void* reader(void* a) {
  char c;
  return (void*)(long)read((int)(long)a, &c, 1);
}
static void reuse_stress(void) {
  long bytes = 0, consumed = 0;
  for (int round = 0; round < ROUNDS; round++) {
    int p[PAIRS][2], q[PAIRS][2];
    pthread_t t[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
      pipe(p[i]);
      pthread_create(&t[i], NULL, reader, (void*)(long)p[i][0]);
    }
    usleep(round % 4 == 0 ? 20000 : 500);
    for (int i = 0; i < PAIRS; i++) {
      close(p[i][0]);
      pipe(q[i]);
      fcntl(q[i][0], F_SETFL, O_NONBLOCK);
      bytes += write(q[i][1], "n", 1) == 1;
      bytes += write(p[i][1], "o", 1) == 1;
    }
    for (int i = 0; i < PAIRS; i++) {
      void* r;
      pthread_join(t[i], &r);
      consumed += (long)r == 1;
      char c;
      while (read(q[i][0], &c, 1) == 1) consumed++;
      close(q[i][0]);
      close(q[i][1]);
      close(p[i][1]);
    }
  }
  /* a write to the old pipe fails (EPIPE) when its reader had not started
   * yet: it then read the new pipe or got EBADF, as natively */
  CHECK(consumed == bytes, "%ld bytes written, %ld read", bytes, consumed);
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  pipes();
  sockets();
  accepts();
  waits();
  reuse_stress();
  printf("closewait: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
