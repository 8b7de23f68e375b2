/* Shared by the tests/io programs (plain C + pthreads, no libgreen headers):
 * checks that print what failed, and a monitor thread that samples the
 * kernel's thread count of this process from /proc. */
#pragma once
#include "../include/check.h"
#include "../include/kthreads.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static volatile int monitor_stop;
static int monitor_max;
static void* monitor(void* arg) {
  (void)arg;
  while (!monitor_stop) {
    int n = kernel_threads();
    if (n > monitor_max) monitor_max = n;
    usleep(2000);
  }
  return NULL;
}
static pthread_t monitor_thread;
static inline void monitor_start(void) { pthread_create(&monitor_thread, NULL, monitor, NULL); }
static inline int monitor_end(void) {
  monitor_stop = 1;
  pthread_join(monitor_thread, NULL);
  return monitor_max;
}

/* Kernel threads of this process now inside system call nr on descriptor
 * fd (its first argument; -1: any), from /proc/self/task/TID/syscall. A
 * thread blocked in read() shows up here natively; under libgreen a
 * parked call leaves no thread in the kernel for it (run.sh checks the
 * "KERNEL_BLOCKED 0" lines of libgreen runs). */
#include <dirent.h>
static inline int kernel_blocked_in(long nr, long fd) {
  DIR* d = opendir("/proc/self/task");
  struct dirent* e;
  int n = 0;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[300], buf[128], *arg;
    snprintf(path, sizeof path, "/proc/self/task/%s/syscall", e->d_name);
    FILE* f = fopen(path, "r");
    if (!f) continue;
    if (fgets(buf, sizeof buf, f) && strncmp(buf, "running", 7) && strtol(buf, &arg, 10) == nr) {
      long a0 = strtol(arg, NULL, 16);
      /* the thread reading this file is in read() on it */
      if ((fd < 0 || a0 == fd) && !(nr == 0 && a0 == fileno(f))) n++;
    }
    fclose(f);
  }
  if (d) closedir(d);
  return n;
}

/* A blocking call run by another thread: job_start returns once the call
 * has had 200 ms to block; job_blocked says whether it still blocks 150 ms
 * later (a blocked call cannot return early on a slow machine). */
#include <errno.h>
typedef long (*op_fn)(long arg);
struct job {
  op_fn op;
  long arg;
  volatile int entered, done;
  long r;
  int err;
  pthread_t t;
};
static void* job_run(void* a) {
  struct job* j = a;
  errno = 0;
  __atomic_store_n(&j->entered, 1, __ATOMIC_SEQ_CST);
  j->r = j->op(j->arg);
  j->err = errno;
  __atomic_store_n(&j->done, 1, __ATOMIC_SEQ_CST);
  return NULL;
}
static inline void job_start(struct job* j, op_fn op, long arg) {
  memset(j, 0, sizeof *j);
  j->op = op;
  j->arg = arg;
  pthread_create(&j->t, NULL, job_run, j);
  while (!__atomic_load_n(&j->entered, __ATOMIC_SEQ_CST)) usleep(1000);
  usleep(200000);
}
static inline int job_blocked(struct job* j) {
  usleep(150000);
  return !__atomic_load_n(&j->done, __ATOMIC_SEQ_CST);
}
static inline void job_finish(struct job* j) { pthread_join(j->t, NULL); }

/* A thread that counts while others block: under libgreen with
 * GREEN_PROCS=1 it advances only if a blocked call left the P free. */
static volatile long counter;
static volatile int counter_stop;
static pthread_t counter_thread;
static void* counter_run(void* a) {
  (void)a;
  while (!counter_stop)
    if ((++counter & 1023) == 0) sched_yield();
  return NULL;
}
static inline void counter_start(void) { pthread_create(&counter_thread, NULL, counter_run, NULL); }
static inline void counter_end(void) {
  counter_stop = 1;
  pthread_join(counter_thread, NULL);
}
/* The counter advances (within 10 s: the machine may be loaded). */
static inline int counter_advances(void) {
  long before = counter;
  for (int i = 0; i < 1000 && counter == before; i++) usleep(10000);
  return counter != before;
}
