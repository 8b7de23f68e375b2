/* Wake-ups on descriptors that several threads wait on, and on descriptor
 * numbers that a close libgreen does not see hands to a new file.
 *
 *  - accepters: 8 threads blocked in accept() on one listening socket, 8
 *    connections made back to back: every thread gets one (the poller sees
 *    one readiness edge for several connections; no waiter may lose it);
 *  - readers: 8 threads blocked in a 1-byte read() on one socket, 8 bytes
 *    written at once: every thread gets one;
 *  - reuse: a thread waits on a socket, the socket is closed by fclose()
 *    (glibc's own close, which no interposition sees), and pipe(),
 *    socketpair() and eventfd() hand out that number again: a blocking
 *    read on the new file must see what is written to it.
 * A lost wake-up hangs: alarm() ends the program with a message.
 * Prints "sharedfd: ok" and exits 0 when everything was delivered. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "common.h"

#define NT 8
#define ROUNDS 100

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "FAIL sharedfd: a blocked call was never woken (lost wake-up)\n";
  write(2, msg, sizeof msg - 1);
  _exit(1);
}

static int listener, port;
static void* accepter(void* a) {
  (void)a;
  int c = accept(listener, NULL, NULL);
  if (c >= 0) close(c);
  return (void*)(long)(c >= 0);
}

static int shared_sock;
static void* reader(void* a) {
  (void)a;
  char b;
  return (void*)(long)(read(shared_sock, &b, 1) == 1);
}

static void accepters(void) {
  listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(bind(listener, (void*)&sa, sizeof sa) == 0, "bind");
  CHECK(listen(listener, 128) == 0, "listen");
  socklen_t l = sizeof sa;
  getsockname(listener, (void*)&sa, &l);
  port = ntohs(sa.sin_port);
  int got = 0;
  for (int r = 0; r < ROUNDS; r++) {
    pthread_t t[NT];
    int cs[NT];
    for (int i = 0; i < NT; i++) pthread_create(&t[i], NULL, accepter, NULL);
    if (r % 10 == 0) usleep(20000); /* most rounds race the waits; some let them all block */
    for (int i = 0; i < NT; i++) {
      cs[i] = socket(AF_INET, SOCK_STREAM, 0);
      CHECK(connect(cs[i], (void*)&sa, sizeof sa) == 0, "connect");
    }
    for (int i = 0; i < NT; i++) {
      void* ok;
      pthread_join(t[i], &ok);
      got += ok != NULL;
      close(cs[i]);
    }
  }
  CHECK(got == NT * ROUNDS, "%d of %d connections accepted", got, NT * ROUNDS);
  close(listener);
}

static void readers(void) {
  int got = 0;
  for (int r = 0; r < ROUNDS; r++) {
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    shared_sock = sv[0];
    pthread_t t[NT];
    for (int i = 0; i < NT; i++) pthread_create(&t[i], NULL, reader, NULL);
    if (r % 10 == 0) usleep(20000);
    CHECK(write(sv[1], "abcdefgh", NT) == NT, "write");
    for (int i = 0; i < NT; i++) {
      void* ok;
      pthread_join(t[i], &ok);
      got += ok != NULL;
    }
    close(sv[0]);
    close(sv[1]);
  }
  CHECK(got == NT * ROUNDS, "%d of %d bytes read", got, NT * ROUNDS);
}

static int reuse_fd;
static void* reuse_reader(void* a) {
  (void)a;
  char b[8];
  return (void*)(long)read(reuse_fd, b, sizeof b);
}

/* Make fd known to the poller (a thread waits on it until a byte comes),
 * then close it with fclose. */
static int waited_then_fclosed(void) {
  int sv[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  reuse_fd = sv[0];
  pthread_t t;
  pthread_create(&t, NULL, reuse_reader, NULL);
  usleep(20000);
  CHECK(write(sv[1], "x", 1) == 1, "write");
  void* n;
  pthread_join(t, &n);
  CHECK((long)n == 1, "first read returned %ld", (long)n);
  FILE* f = fdopen(sv[0], "r+");
  CHECK(f != NULL, "fdopen");
  fclose(f);
  close(sv[1]);
  return sv[0];
}

/* The new file at old: a reader blocks on it, then it becomes readable. */
static void read_new_file(const char* what, int old, int rfd, int wfd) {
  CHECK(rfd == old, "%s did not reuse fd %d (got %d): test premise", what, old, rfd);
  reuse_fd = rfd;
  pthread_t t;
  pthread_create(&t, NULL, reuse_reader, NULL);
  usleep(50000);
  uint64_t one = 1;
  CHECK(write(wfd, &one, sizeof one) == sizeof one, "%s: write", what);
  void* n;
  pthread_join(t, &n);
  CHECK((long)n == sizeof one, "%s: read returned %ld", what, (long)n);
}

static void reuse(void) {
  int old = waited_then_fclosed(), p[2];
  CHECK(pipe(p) == 0, "pipe");
  read_new_file("pipe", old, p[0], p[1]);
  close(p[0]);
  close(p[1]);

  int sv[2];
  old = waited_then_fclosed();
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  read_new_file("socketpair", old, sv[0], sv[1]);
  close(sv[0]);
  close(sv[1]);

  old = waited_then_fclosed();
  int e = eventfd(0, 0);
  read_new_file("eventfd", old, e, e);
  close(e);
}

int main(void) {
  signal(SIGALRM, on_alarm);
  alarm(60);
  accepters();
  readers();
  reuse();
  printf("sharedfd: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
