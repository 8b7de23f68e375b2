/* Blocking pipe calls under a storm of signals (SIGALRM every 50 us, a
 * handler installed with SA_RESTART): each call stays blocked and returns
 * its data once the other end acts, and under libgreen no kernel thread
 * sits in the blocking call meanwhile (KERNEL_BLOCKED lines, checked by
 * run.sh). Regression: the readiness check before a pipe call took a poll()
 * interrupted by a signal (-1, EINTR) for "ready", and the call then blocked
 * its kernel thread. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>

#include "common.h"

static volatile long alarms;
static void on_alarm(int s) {
  (void)s;
  alarms++;
}

static void storm(int on) {
  struct itimerval it = {{0, on ? 50 : 0}, {0, on ? 50 : 0}};
  setitimer(ITIMER_REAL, &it, NULL);
}

static int p[2];
static char c;
static long do_write(long fd) { return write((int)fd, "w", 1); }
static long write_pages(long fd) {
  static char page[4096];
  long n = 0;
  for (; n < 300; n++)
    if (write((int)fd, page, sizeof page) != sizeof page) break;
  return n;
}
static long do_read(long fd) { return read((int)fd, &c, 1); }

/* Sleeps the whole time, signals or not. */
static void nap(long ns) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  t.tv_nsec += ns % 1000000000;
  t.tv_sec += ns / 1000000000 + t.tv_nsec / 1000000000;
  t.tv_nsec %= 1000000000;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {}
}

/* Under the storm for 1 s: the most kernel threads seen in call nr on fd. */
static int max_blocked(long nr, long fd) {
  storm(1);
  int most = 0;
  for (int i = 0; i < 100; i++) {
    int n = kernel_blocked_in(nr, fd);
    if (n > most) most = n;
    nap(10000000);
  }
  storm(0);
  return most;
}


int main(void) {
  struct sigaction sa = {.sa_handler = on_alarm, .sa_flags = SA_RESTART};
  sigaction(SIGALRM, &sa, NULL);
  counter_start();
  pipe(p);
  struct job j;

  /* a write into a full pipe */
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  size_t filled = 0;
  while (write(p[1], "z", 1) == 1) filled++;
  fcntl(p[1], F_SETFL, 0);
  job_start(&j, do_write, p[1]);
  CHECK(job_blocked(&j), "write into a full pipe returned %ld errno %d", j.r, j.err);
  printf("KERNEL_BLOCKED %d (write)\n", max_blocked(SYS_write, p[1]));
  CHECK(job_blocked(&j), "write into a full pipe returned %ld errno %d under signals", j.r, j.err);
  char* page = malloc(filled + 1);
  size_t got = 0;
  while (got < filled + 1) {
    ssize_t r = read(p[0], page + got, filled + 1 - got);
    if (r <= 0) break;
    got += (size_t)r;
  }
  job_finish(&j);
  CHECK(j.r == 1, "write returned %ld errno %d", j.r, j.err);
  CHECK(got == filled + 1 && page[got - 1] == 'w', "read back %zu bytes, the last %c", got, page[got - 1]);

  free(page);

  /* a read from an empty pipe */
  job_start(&j, do_read, p[0]);
  CHECK(job_blocked(&j), "read of an empty pipe returned %ld errno %d", j.r, j.err);
  printf("KERNEL_BLOCKED %d (read)\n", max_blocked(SYS_read, p[0]));
  CHECK(job_blocked(&j), "read of an empty pipe returned %ld errno %d under signals", j.r, j.err);
  write(p[1], "r", 1);
  job_finish(&j);
  CHECK(j.r == 1 && c == 'r', "read returned %ld errno %d", j.r, j.err);
  /* 300 blocking writes of a page each, released one drained page at a
   * time: each starts with a readiness check while signals arrive */
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  filled = 0;
  while (write(p[1], "z", 1) == 1) filled++;
  fcntl(p[1], F_SETFL, 0);
  job_start(&j, write_pages, p[1]);
  storm(1);
  int seen = 0;
  static char buf[4096];
  for (int i = 0; i < 300; i++) {
    seen += kernel_blocked_in(SYS_write, p[1]);
    CHECK(read(p[0], buf, sizeof buf) > 0, "drain: errno %d", errno);
    nap(1000000);
  }
  storm(0);
  while (!__atomic_load_n(&j.done, __ATOMIC_SEQ_CST)) CHECK(read(p[0], buf, sizeof buf) > 0, "drain: errno %d", errno);
  job_finish(&j);
  CHECK(j.r == 300, "%ld pages written", j.r);
  printf("KERNEL_BLOCKED %d (300 writes)\n", seen);

  CHECK(alarms > 1000, "only %ld signals arrived", alarms);
  counter_end();
  printf("sigstorm: ok (%ld signals)\n", alarms);
  return 0;
}
