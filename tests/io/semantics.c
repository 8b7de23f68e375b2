/* Blocking-call semantics that must be the same natively and under
 * libgreen: timeouts, O_NONBLOCK, large and partial writes, MSG_WAITALL,
 * refused connects, poll/select/epoll on mixed fds, shutdown and EOF
 * waking blocked readers, and O_NONBLOCK never changed behind our back. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>

#include "common.h"

static void* write_later(void* arg) {
  int fd = (int)(long)arg;
  usleep(50000);
  write(fd, "x", 1);
  return NULL;
}

static void* shutdown_later(void* arg) {
  usleep(50000);
  shutdown((int)(long)arg, SHUT_RDWR);
  return NULL;
}

static void* close_later(void* arg) {
  usleep(50000);
  close((int)(long)arg);
  return NULL;
}

enum { BIG = 4 << 20 };
static void* drain(void* arg) {
  int fd = (int)(long)arg;
  char buf[65536];
  long total = 0;
  ssize_t k;
  while (total < BIG && (k = read(fd, buf, sizeof buf)) > 0) total += k;
  return (void*)total;
}

static void* trickle(void* arg) {
  int fd = (int)(long)arg;
  char chunk[10000];
  memset(chunk, 'w', sizeof chunk);
  for (int i = 0; i < 10; i++) {
    write(fd, chunk, sizeof chunk);
    usleep(5000);
  }
  return NULL;
}

static pthread_t spawn(void* (*f)(void*), int fd) {
  pthread_t t;
  pthread_create(&t, NULL, f, (void*)(long)fd);
  return t;
}

int main(void) {
  int sv[2], p[2];
  char c;

  /* SO_RCVTIMEO: EAGAIN after the timeout, never early */
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  struct timeval tv = {0, 100000};
  setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  double t0 = now_s();
  ssize_t r = recv(sv[0], &c, 1, 0);
  CHECK(r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK), "recv with SO_RCVTIMEO: %zd errno %d", r, errno);
  CHECK(now_s() - t0 >= 0.099, "SO_RCVTIMEO returned early (%.3f s)", now_s() - t0);
  close(sv[0]);
  close(sv[1]);

  /* the application's own O_NONBLOCK: EAGAIN at once, flag kept */
  pipe(p);
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
  r = read(p[0], &c, 1);
  CHECK(r == -1 && errno == EAGAIN, "non-blocking read: %zd errno %d", r, errno);
  CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK, "O_NONBLOCK was cleared");
  close(p[0]);
  close(p[1]);

  /* blocking fds stay blocking after libgreen waited on them */
  pipe(p);
  pthread_t t = spawn(write_later, p[1]);
  CHECK(read(p[0], &c, 1) == 1 && c == 'x', "read on a pipe that becomes readable");
  pthread_join(t, NULL);
  CHECK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK), "O_NONBLOCK was set on the app's fd");
  /* EOF wakes a blocked reader */
  t = spawn(close_later, p[1]);
  CHECK(read(p[0], &c, 1) == 0, "EOF after the writer closed");
  pthread_join(t, NULL);
  close(p[0]);

  /* one 4 MiB write on a blocking socket: all of it, while a reader drains */
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  char* big = malloc(BIG);
  memset(big, 'b', BIG);
  t = spawn(drain, sv[1]);
  r = write(sv[0], big, BIG);
  void* drained;
  pthread_join(t, &drained);
  CHECK(r == BIG, "large blocking write returned %zd", r);
  CHECK((long)drained == BIG, "reader got %ld bytes", (long)drained);
  free(big);

  /* MSG_WAITALL collects every byte of a trickled stream */
  t = spawn(trickle, sv[1]);
  char* all = malloc(100000);
  r = recv(sv[0], all, 100000, MSG_WAITALL);
  CHECK(r == 100000, "MSG_WAITALL returned %zd", r);
  pthread_join(t, NULL);
  free(all);

  /* shutdown wakes a blocked reader with EOF */
  t = spawn(shutdown_later, sv[0]);
  CHECK(read(sv[0], &c, 1) == 0, "shutdown woke the reader");
  pthread_join(t, NULL);
  close(sv[0]);
  close(sv[1]);

  /* connect to a port nobody listens on */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, (void*)&sa, sizeof sa);
  socklen_t l = sizeof sa;
  getsockname(s, (void*)&sa, &l);
  close(s);  /* the port is now closed */
  s = socket(AF_INET, SOCK_STREAM, 0);
  r = connect(s, (void*)&sa, sizeof sa);
  CHECK(r == -1 && errno == ECONNREFUSED, "connect to a closed port: %zd errno %d", r, errno);
  close(s);

  /* poll on mixed fds: a readable pipe, an empty pipe, a regular file */
  int a[2], b[2];
  pipe(a);
  pipe(b);
  write(a[1], "y", 1);
  FILE* tmp = tmpfile();
  struct pollfd pf[3] = {{a[0], POLLIN, 0}, {b[0], POLLIN, 0}, {fileno(tmp), POLLIN, 0}};
  int n = poll(pf, 3, 1000);
  CHECK(n == 2 && (pf[0].revents & POLLIN) && pf[1].revents == 0 && (pf[2].revents & POLLIN),
        "poll mixed: %d revents %#x %#x %#x", n, pf[0].revents, pf[1].revents, pf[2].revents);
  /* poll that blocks until another thread writes */
  t = spawn(write_later, b[1]);
  struct pollfd one = {b[0], POLLIN, 0};
  CHECK(poll(&one, 1, -1) == 1 && (one.revents & POLLIN), "poll woke on write");
  pthread_join(t, NULL);
  read(b[0], &c, 1);
  /* poll timeout, never early */
  t0 = now_s();
  CHECK(poll(&one, 1, 50) == 0, "poll timeout");
  CHECK(now_s() - t0 >= 0.049, "poll returned early");
  /* select that blocks until readable */
  t = spawn(write_later, b[1]);
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(b[0], &rs);
  CHECK(select(b[0] + 1, &rs, NULL, NULL, NULL) == 1 && FD_ISSET(b[0], &rs), "select woke on write");
  pthread_join(t, NULL);
  read(b[0], &c, 1);

  /* epoll_wait on the application's own epoll instance */
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = b[0]}, out[4];
  epoll_ctl(ep, EPOLL_CTL_ADD, b[0], &ev);
  CHECK(epoll_wait(ep, out, 4, 50) == 0, "epoll_wait timeout");
  t = spawn(write_later, b[1]);
  n = epoll_wait(ep, out, 4, -1);
  CHECK(n == 1 && out[0].data.fd == b[0], "epoll_wait woke: %d", n);
  pthread_join(t, NULL);
  close(ep);
  close(a[0]); close(a[1]); close(b[0]); close(b[1]);
  fclose(tmp);

  printf("semantics: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
