/* closefds: a program that closes every descriptor it does not know of
 * (closefrom(3), as daemons and fork-exec helpers do) while threads do I/O,
 * then opens new ones.
 *
 * Natively the numbers it gets afterwards are the lowest free ones, and
 * nothing but the program touches them. A runtime keeping descriptors of
 * its own (an epoll set, a wake-up eventfd, an unwinder's pipe) must keep
 * them where they are neither handed out nor closed by the program:
 *  - the new socketpair is 3 and 4, as natively;
 *  - a thread blocked in read() on it still wakes for the data (the
 *    runtime's poller survived the closefrom);
 *  - CPU-bound threads preempted meanwhile (the runtime unwinds their
 *    stacks) leave the program's descriptors alone: no byte appears on the
 *    socketpairs that the program did not write, and every end is still
 *    the socket it made;
 *  - dup2() onto numbers the program never opened (1,024 and up, where a
 *    runtime may keep its own) works and takes nothing from the runtime.
 * Exit 0 when all hold. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../include/check.h"

static int sv[2];

static void* reader(void* a) {
  char c = 0;
  ssize_t n = read(sv[0], &c, 1);
  *(char*)a = n == 1 ? c : '?';
  return NULL;
}

static void* spinner(void* a) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  volatile unsigned long x = 0;
  do {
    for (int i = 0; i < 100000; i++) x += (unsigned long)i;
    clock_gettime(CLOCK_MONOTONIC, &t);
  } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < (long)(size_t)a * 1000000L);
  return NULL;
}

/* a thread blocks in read() on sv[0]; the byte comes 20 ms later */
static char exchange(char what) {
  char got = 0;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, reader, &got) == 0, "create reader");
  usleep(20000);
  CHECK(write(sv[1], &what, 1) == 1, "write");
  pthread_join(t, NULL);
  return got;
}

static void spin_all(int ms) {
  pthread_t s[4];
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&s[i], NULL, spinner, (void*)(size_t)ms) == 0, "create spinner");
  for (int i = 0; i < 4; i++) pthread_join(s[i], NULL);
}

int main(void) {
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
  CHECK(exchange('a') == 'a', "the first read");
  spin_all(50);  /* preemption before the closefrom */

  closefrom(3);
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair after closefrom");
  CHECK(sv[0] == 3 && sv[1] == 4, "socketpair after closefrom(3) got %d %d, not the lowest free 3 4", sv[0], sv[1]);
  int more[2];
  CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, more) == 0 && more[0] == 5 && more[1] == 6,
        "the next socketpair got %d %d, not 5 6", more[0], more[1]);
  struct stat s0, s1, m0, m1;
  CHECK(fstat(sv[0], &s0) == 0 && fstat(sv[1], &s1) == 0 && fstat(more[0], &m0) == 0 && fstat(more[1], &m1) == 0,
        "fstat");

  char got = exchange('b');
  CHECK(got == 'b', "a read blocked after closefrom(3) got '%c'", got);
  spin_all(100);  /* preemption after it */
  got = exchange('c');
  CHECK(got == 'c', "the next read got '%c'", got);

  for (int fd = 1024; fd < 1040; fd++) CHECK(dup2(more[0], fd) == fd, "dup2 onto %d", fd);
  for (int fd = 1024; fd < 1040; fd++) CHECK(close(fd) == 0, "close %d", fd);
  spin_all(50);
  got = exchange('d');
  CHECK(got == 'd', "a read after dup2 onto high numbers got '%c'", got);

  char stray;
  CHECK(recv(sv[0], &stray, 1, MSG_DONTWAIT) == -1, "a byte nobody wrote arrived on the socketpair");
  CHECK(recv(sv[1], &stray, 1, MSG_DONTWAIT) == -1, "a byte nobody wrote arrived on the other end");
  CHECK(recv(more[0], &stray, 1, MSG_DONTWAIT) == -1 && recv(more[1], &stray, 1, MSG_DONTWAIT) == -1,
        "a byte nobody wrote arrived on the second socketpair");
  struct stat t0, t1, n0, n1;
  CHECK(fstat(sv[0], &t0) == 0 && fstat(sv[1], &t1) == 0 && t0.st_ino == s0.st_ino && t1.st_ino == s1.st_ino,
        "the socketpair's descriptors no longer name its sockets");
  CHECK(fstat(more[0], &n0) == 0 && fstat(more[1], &n1) == 0 && n0.st_ino == m0.st_ino && n1.st_ino == m1.st_ino,
        "the second socketpair's descriptors no longer name its sockets");
  printf("closefds: %d failures\n", failures);
  return failures ? 1 : 0;
}
