/* A blocking read on each kind of pollable descriptor: eventfd, timerfd,
 * signalfd, inotify, a pseudo-terminal and a FIFO. While the reader
 * blocks another thread keeps counting (under libgreen with
 * GREEN_PROCS=1 that needs the reader parked, or handed off), and the
 * reader must end with the right data. A read on an epoll fd or a pidfd
 * (anonymous inodes too) fails at once. Under libgreen no kernel thread
 * may sit in read() meanwhile: the reader is parked on the netpoller
 * (KERNEL_BLOCKED lines, checked by run.sh). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include "common.h"

static char buf[4096];
static long op_read(long fd) { return read(fd, buf, sizeof buf); }

/* Start a read on fd, check the counter runs and no thread is in read()
 * (under libgreen), then trigger(ctx) and return the read's result. */
static long blocked_read(const char* what, int fd, void (*trigger)(void*), void* ctx) {
  struct job j;
  job_start(&j, op_read, fd);
  CHECK(job_blocked(&j), "%s: read returned %ld errno %d before its event", what, j.r, j.err);
  printf("KERNEL_BLOCKED %d (read on %s)\n", kernel_blocked_in(SYS_read, fd), what);
  CHECK(counter_advances(), "%s: no other thread ran while the read blocked", what);
  trigger(ctx);
  job_finish(&j);
  return j.r;
}

static void write8(void* fd) {
  uint64_t v = 5;
  write((int)(long)fd, &v, 8);
}
static void nothing(void* unused) { (void)unused; }
static void send_usr1(void* unused) {
  (void)unused;
  kill(getpid(), SIGUSR1);
}
static void create_file(void* path) { close(open(path, O_CREAT | O_WRONLY, 0600)); }
static void write_line(void* fd) { write((int)(long)fd, "hi\n", 3); }

int main(void) {
  /* signalfd wants the signal blocked in every thread: first, so that every
   * thread made later inherits the mask */
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  sigprocmask(SIG_BLOCK, &usr1, NULL);
  counter_start();

  int e = eventfd(0, 0);
  long r = blocked_read("eventfd", e, write8, (void*)(long)e);
  CHECK(r == 8 && *(uint64_t*)buf == 5, "eventfd read %ld value %llu", r, (unsigned long long)*(uint64_t*)buf);
  close(e);

  int t = timerfd_create(CLOCK_MONOTONIC, 0);
  struct itimerspec its = {.it_value = {1, 0}};
  timerfd_settime(t, 0, &its, NULL);
  r = blocked_read("timerfd", t, nothing, NULL);
  CHECK(r == 8 && *(uint64_t*)buf == 1, "timerfd read %ld expirations %llu", r, (unsigned long long)*(uint64_t*)buf);
  close(t);

  int s = signalfd(-1, &usr1, 0);
  r = blocked_read("signalfd", s, send_usr1, NULL);
  CHECK(r == sizeof(struct signalfd_siginfo) && ((struct signalfd_siginfo*)buf)->ssi_signo == SIGUSR1,
        "signalfd read %ld", r);
  close(s);

  char dir[64], path[96];
  snprintf(dir, sizeof dir, "/tmp/green-fdkinds-%d", getpid());
  mkdir(dir, 0700);
  snprintf(path, sizeof path, "%s/new", dir);
  int in = inotify_init();
  inotify_add_watch(in, dir, IN_CREATE);
  r = blocked_read("inotify", in, create_file, path);
  CHECK(r >= (long)sizeof(struct inotify_event) && (((struct inotify_event*)buf)->mask & IN_CREATE),
        "inotify read %ld", r);
  close(in);
  unlink(path);
  rmdir(dir);

  int m, sl;
  CHECK(openpty(&m, &sl, NULL, NULL, NULL) == 0, "openpty: errno %d", errno);
  r = blocked_read("pty", sl, write_line, (void*)(long)m);
  CHECK(r == 3 && !memcmp(buf, "hi\n", 3), "pty read %ld", r);
  close(sl);
  close(m);

  snprintf(path, sizeof path, "/tmp/green-fdkinds-%d.fifo", getpid());
  mkfifo(path, 0600);
  int f = open(path, O_RDWR);
  r = blocked_read("fifo", f, write_line, (void*)(long)f);
  CHECK(r == 3, "fifo read %ld", r);
  close(f);
  unlink(path);

  /* anonymous inodes whose read does not wait: an error at once */
  int ep = epoll_create1(0);
  CHECK(read(ep, buf, 8) == -1 && errno == EINVAL, "read on an epoll fd: errno %d", errno);
  close(ep);
  int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  CHECK(read(pidfd, buf, 8) == -1 && errno == EINVAL, "read on a pidfd: errno %d", errno);
  close(pidfd);

  counter_end();
  printf("fdkinds: %s\n", failures ? "FAILED" : "ok");
  return failures != 0;
}
