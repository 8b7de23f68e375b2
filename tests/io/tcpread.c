/* Blocking reads on TCP sockets around the conditions that end a read
 * without new data. libgreen parks a read without asking the kernel when
 * the read before it came back short (the receive queue was empty then)
 * and no readiness edge has come since; these cases must still behave as
 * natively:
 *  - pieces: 2,000 writes of 1-300 bytes, some after a pause, read with a
 *    4 KiB buffer: every byte arrives, in order, then EOF;
 *  - exact: a read that fills its buffer exactly is not short: with more
 *    data queued the next read returns it at once;
 *  - eof: data and the peer's FIN arrive while the reader is busy, after
 *    it already waited once on the socket: a short read, then 0 at once;
 *  - reset: the same with a reset (SO_LINGER 0): the data, then
 *    ECONNRESET;
 *  - urgent: "abc", one byte of urgent data, "def": the read stops at the
 *    urgent mark ("abc"), the next one returns "def";
 *  - shut: the reader's own shutdown(SHUT_RD) after a short read: the next
 *    read returns 0.
 * Throughout, another thread waits in a read on another socket, so the
 * poller keeps harvesting: the FIN or urgent data of these cases has been
 * seen before the short read, not only when the next read waits.
 * A read that never returns hangs: alarm() ends the program with a
 * message. Prints "tcpread: ok" and exits 0 when all match. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/socket.h>

#include "common.h"

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "FAIL tcpread: a read never returned\n";
  write(2, msg, sizeof msg - 1);
  _exit(1);
}

static int listener;
static struct sockaddr_in addr;

static void listen_once(void) {
  listener = socket(AF_INET, SOCK_STREAM, 0);
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(listener, (void*)&addr, sizeof addr) == 0, "bind: %s", strerror(errno));
  CHECK(listen(listener, 64) == 0, "listen: %s", strerror(errno));
  socklen_t l = sizeof addr;
  getsockname(listener, (void*)&addr, &l);
}

/* A connected pair: *w the writer's end, returns the reader's end. */
static int pair(int* w) {
  *w = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(connect(*w, (void*)&addr, sizeof addr) == 0, "connect: %s", strerror(errno));
  int one = 1;
  setsockopt(*w, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int r = accept(listener, NULL, NULL);
  CHECK(r >= 0, "accept: %s", strerror(errno));
  return r;
}

static void write_all(int fd, const void* b, size_t n) {
  CHECK(write(fd, b, n) == (ssize_t)n, "write %zu: %s", n, strerror(errno));
}

/* The reader parks once on fd (so the poller knows it), then returns. */
static void* send_x_later(void* a) {
  usleep(20000);
  write_all((int)(long)a, "x", 1);
  return NULL;
}
static void wait_once(int r, int w) {
  pthread_t t;
  pthread_create(&t, NULL, send_x_later, (void*)(long)w);
  char c;
  CHECK(read(r, &c, 1) == 1 && c == 'x', "first read");
  pthread_join(t, NULL);
}

/* ---- pieces ---- */
#define PIECES 2000
static unsigned char pattern(long i) { return (unsigned char)(i * 7 + (i >> 8) * 13); }
static void* piece_writer(void* a) {
  int w = (int)(long)a;
  unsigned seed = 12345;
  long off = 0;
  unsigned char buf[300];
  for (int k = 0; k < PIECES; k++) {
    int n = 1 + (int)(rand_r(&seed) % 300);
    for (int i = 0; i < n; i++) buf[i] = pattern(off + i);
    write_all(w, buf, (size_t)n);
    off += n;
    if (k % 16 == 0) usleep(300);  /* the reader catches up and waits */
  }
  close(w);
  return (void*)off;
}
static void pieces(void) {
  int w, r = pair(&w);
  pthread_t t;
  pthread_create(&t, NULL, piece_writer, (void*)(long)w);
  unsigned char buf[4096];
  long got = 0, bad = -1;
  ssize_t k;
  while ((k = read(r, buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < k; i++)
      if (bad < 0 && buf[i] != pattern(got + i)) bad = got + i;
    got += k;
  }
  void* sent;
  pthread_join(t, &sent);
  CHECK(k == 0, "read ended with %zd: %s", k, strerror(errno));
  CHECK(got == (long)sent, "got %ld of %ld bytes", got, (long)sent);
  CHECK(bad < 0, "byte %ld wrong", bad);
  close(r);
}

/* ---- exact ---- */
static void exact(void) {
  int w, r = pair(&w);
  wait_once(r, w);
  char out[100], in[10];
  for (int i = 0; i < 100; i++) out[i] = (char)i;
  write_all(w, out, sizeof out);
  usleep(20000);  /* all 100 bytes queued */
  for (int i = 0; i < 10; i++) {
    alarm(5);  /* each read finds its 10 bytes queued: none may wait */
    CHECK(read(r, in, sizeof in) == 10 && in[0] == (char)(i * 10), "read %d", i);
  }
  alarm(0);
  close(w);
  CHECK(read(r, in, sizeof in) == 0, "EOF");
  close(r);
}

/* ---- eof / reset ---- */
static void end_of(int reset) {
  int w, r = pair(&w);
  wait_once(r, w);
  write_all(w, "abc", 3);
  if (reset) {
    struct linger lg = {1, 0};
    setsockopt(w, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  close(w);
  usleep(50000);  /* data and FIN (or RST) arrived while the reader was busy */
  char buf[4096];
  alarm(10);
  ssize_t k = read(r, buf, sizeof buf);
  CHECK(k == 3 && !memcmp(buf, "abc", 3), "%s: first read %zd", reset ? "reset" : "eof", k);
  errno = 0;
  k = read(r, buf, sizeof buf);
  if (reset)
    CHECK(k == -1 && errno == ECONNRESET, "reset: second read %zd (%s)", k, strerror(errno));
  else
    CHECK(k == 0, "eof: second read %zd (%s)", k, strerror(errno));
  alarm(0);
  close(r);
}

/* ---- urgent ---- */
static void urgent(void) {
  int w, r = pair(&w);
  wait_once(r, w);
  write_all(w, "abc", 3);
  CHECK(send(w, "!", 1, MSG_OOB) == 1, "send MSG_OOB: %s", strerror(errno));
  write_all(w, "def", 3);
  usleep(50000);
  char buf[4096];
  alarm(10);
  ssize_t k = read(r, buf, sizeof buf);
  CHECK(k == 3 && !memcmp(buf, "abc", 3), "urgent: first read %zd", k);
  k = read(r, buf, sizeof buf);
  CHECK(k == 3 && !memcmp(buf, "def", 3), "urgent: second read %zd '%.*s'", k, (int)(k > 0 ? k : 0), buf);
  alarm(0);
  close(w);
  close(r);
}

/* ---- shut ---- */
static void shut(void) {
  int w, r = pair(&w);
  wait_once(r, w);
  write_all(w, "abc", 3);
  usleep(20000);
  char buf[4096];
  alarm(10);
  CHECK(read(r, buf, sizeof buf) == 3, "shut: first read");
  CHECK(shutdown(r, SHUT_RD) == 0, "shutdown: %s", strerror(errno));
  ssize_t k = read(r, buf, sizeof buf);
  CHECK(k == 0, "shut: read after SHUT_RD %zd (%s)", k, strerror(errno));
  alarm(0);
  close(w);
  close(r);
}

static void* run_all(void* a) {
  (void)a;
  for (int round = 0; round < 20; round++) {
    pieces();
    exact();
    end_of(0);
    end_of(1);
    urgent();
    shut();
  }
  return NULL;
}

static void* bystander(void* a) {
  char c;
  CHECK(read((int)(long)a, &c, 1) == 0, "bystander: EOF expected");
  return NULL;
}

int main(void) {
  signal(SIGALRM, on_alarm);
  signal(SIGPIPE, SIG_IGN);
  listen_once();
  int bw, br = pair(&bw);
  pthread_t b, t;
  pthread_create(&b, NULL, bystander, (void*)(long)br);
  pthread_create(&t, NULL, run_all, NULL);
  pthread_join(t, NULL);
  close(bw);
  pthread_join(b, NULL);
  if (failures) return 1;
  printf("tcpread: ok\n");
  return 0;
}
