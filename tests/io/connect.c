/* connect() as Linux does it, natively and under libgreen (which parks a
 * blocking TCP connect on the netpoller). Facts (probed natively):
 *  - a port nobody listens on: ECONNREFUSED at once;
 *  - a listener whose accept queue is full drops SYNs: a blocking connect
 *    waits for a retransmission (1 s, 3 s, ...) that finds room;
 *  - SO_SNDTIMEO bounds that wait: EINPROGRESS at the timeout, the
 *    connection goes on; a second blocking connect meanwhile waits again
 *    and times out with EALREADY; SO_ERROR stays 0;
 *  - connect on a connected socket: EISCONN;
 *  - with the application's own O_NONBLOCK: EINPROGRESS, then EALREADY,
 *    POLLOUT once established, SO_ERROR 0, the flag unchanged;
 *  - a blocking connect keeps going when another thread closes the fd.
 * "storm N": N threads connect at once to a listener whose queue is full;
 * the listener is closed once all of them wait, and each connect ends
 * with ECONNREFUSED at its next retransmission (or 0 if it got in). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "common.h"

static struct sockaddr_in addr;
static int listener(int backlog) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  addr = (struct sockaddr_in){.sin_family = AF_INET};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, (void*)&addr, sizeof addr);
  listen(s, backlog);
  socklen_t l = sizeof addr;
  getsockname(s, (void*)&addr, &l);
  return s;
}

/* Fill l's accept queue (backlog 0: one connection fills it), so that
 * later SYNs are dropped. */
static int filler;
static void fill_queue(void) {
  filler = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  connect(filler, (void*)&addr, sizeof addr);
  struct pollfd pf = {filler, POLLOUT, 0};
  poll(&pf, 1, 5000);
}
static void drop_fillers(void) { close(filler); }

/* Accepts (and closes) connections until the listener is shut down. */
static void* acceptor(void* a) {
  int l = (int)(long)a, c;
  while ((c = accept(l, NULL, NULL)) >= 0) close(c);
  return NULL;
}

struct conn {
  int fd, r, err;
  volatile int started, done;
  double secs;
};
static void* do_connect(void* a) {
  struct conn* c = a;
  c->started = 1;
  double t0 = now_s();
  c->r = connect(c->fd, (void*)&addr, sizeof addr);
  c->err = errno;
  c->secs = now_s() - t0;
  __atomic_store_n(&c->done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}

static void semantics(void) {
  /* refused */
  int l = listener(4);
  close(l);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int r = connect(s, (void*)&addr, sizeof addr);
  CHECK(r == -1 && errno == ECONNREFUSED, "connect to a closed port: %d errno %d", r, errno);
  close(s);

  /* immediate success, then EISCONN; the flag stays blocking */
  l = listener(16);
  s = socket(AF_INET, SOCK_STREAM, 0);
  r = connect(s, (void*)&addr, sizeof addr);
  CHECK(r == 0, "connect: %d errno %d", r, errno);
  r = connect(s, (void*)&addr, sizeof addr);
  CHECK(r == -1 && errno == EISCONN, "second connect: %d errno %d", r, errno);
  CHECK(!(fcntl(s, F_GETFL) & O_NONBLOCK), "O_NONBLOCK set on a blocking socket");
  close(s);
  close(l);

  l = listener(0);
  fill_queue();
  /* SO_SNDTIMEO: EINPROGRESS, then EALREADY, SO_ERROR 0 */
  s = socket(AF_INET, SOCK_STREAM, 0);
  struct timeval tv = {0, 300000};
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  double t0 = now_s();
  r = connect(s, (void*)&addr, sizeof addr);
  CHECK(r == -1 && errno == EINPROGRESS, "connect with SO_SNDTIMEO: %d errno %d", r, errno);
  CHECK(now_s() - t0 >= 0.29, "SO_SNDTIMEO ended the connect early (%.3f s)", now_s() - t0);
  r = connect(s, (void*)&addr, sizeof addr);
  CHECK(r == -1 && errno == EALREADY, "connect again with SO_SNDTIMEO: %d errno %d", r, errno);
  int err = -1;
  socklen_t el = sizeof err;
  getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
  CHECK(err == 0, "SO_ERROR %d", err);
  CHECK(!(fcntl(s, F_GETFL) & O_NONBLOCK), "O_NONBLOCK left set");
  close(s);

  /* the application's own O_NONBLOCK */
  s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  r = connect(s, (void*)&addr, sizeof addr);
  CHECK(r == -1 && errno == EINPROGRESS, "non-blocking connect: %d errno %d", r, errno);
  r = connect(s, (void*)&addr, sizeof addr);
  CHECK(r == -1 && errno == EALREADY, "non-blocking connect again: %d errno %d", r, errno);
  CHECK(fcntl(s, F_GETFL) & O_NONBLOCK, "the application's O_NONBLOCK was cleared");

  /* a blocking connect that waits: no kernel thread under libgreen; then
   * a close of its fd by this thread does not stop it */
  int b = socket(AF_INET, SOCK_STREAM, 0);
  struct conn c = {.fd = b};
  pthread_t t;
  pthread_create(&t, NULL, do_connect, &c);
  while (!c.started) usleep(1000);
  usleep(200000);
  CHECK(!c.done, "blocking connect to a full queue returned %d errno %d", c.r, c.err);
  printf("KERNEL_BLOCKED %d (connect)\n", kernel_blocked_in(SYS_connect, b));
  close(b);
  usleep(100000);
  CHECK(!c.done, "blocking connect returned %d errno %d after close", c.r, c.err);
  /* make room: the waiting SYNs' next retransmission gets in */
  pthread_t acc;
  pthread_create(&acc, NULL, acceptor, (void*)(long)l);
  struct pollfd pf = {s, POLLOUT, 0};
  r = poll(&pf, 1, 20000);
  CHECK(r == 1 && (pf.revents & POLLOUT), "POLLOUT on the non-blocking connect: %d %#x", r, pf.revents);
  err = -1;
  getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
  CHECK(err == 0, "SO_ERROR after POLLOUT: %d", err);
  r = connect(s, (void*)&addr, sizeof addr);
  CHECK(r == 0 || (r == -1 && errno == EISCONN), "connect after completion: %d errno %d", r, errno);
  r = connect(s, (void*)&addr, sizeof addr);
  CHECK(r == -1 && errno == EISCONN, "connect once more: %d errno %d", r, errno);
  close(s);
  pthread_join(t, NULL);
  CHECK(c.r == 0, "blocking connect (its fd closed meanwhile): %d errno %d after %.2f s", c.r, c.err, c.secs);
  shutdown(l, SHUT_RDWR);
  pthread_join(acc, NULL);
  drop_fillers();
  close(l);
}

static void storm(int n) {
  int l = listener(0);
  fill_queue();
  monitor_start();
  struct conn* c = calloc(n, sizeof *c);
  pthread_t* t = calloc(n, sizeof *t);
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 64 << 10);
  for (int i = 0; i < n; i++) {
    c[i].fd = socket(AF_INET, SOCK_STREAM, 0);
    if (pthread_create(&t[i], &at, do_connect, &c[i])) {
      CHECK(0, "pthread_create %d failed", i);
      n = i;
      break;
    }
  }
  for (int i = 0; i < n; i++)
    while (!c[i].started) usleep(1000);
  usleep(300000);
  int waiting = 0;
  for (int i = 0; i < n; i++) waiting += !c[i].done;
  printf("KERNEL_BLOCKED %d (connect, %d waiting)\n", kernel_blocked_in(SYS_connect, -1), waiting);
  close(l);  /* the next SYN of each gets a reset */
  int ok = 0, refused = 0;
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
    if (c[i].r == 0) ok++;
    else if (c[i].err == ECONNREFUSED) refused++;
    else CHECK(0, "connect %d: errno %d", i, c[i].err);
    close(c[i].fd);
  }
  drop_fillers();
  int peak = monitor_end();
  CHECK(ok + refused == n, "%d connected + %d refused of %d", ok, refused, n);
  CHECK(waiting > 0, "no connect was waiting");
  printf("storm %d: %d waited, %d connected, %d refused\nPEAK_THREADS %d\n", n, waiting, ok, refused, peak);
  free(c);
  free(t);
}

int main(int argc, char** argv) {
  if (argc > 2 && !strcmp(argv[1], "storm")) storm(atoi(argv[2]));
  else semantics();
  printf("connect: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
