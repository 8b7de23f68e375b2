/* raw_tid [threads] [iterations]: per-thread system calls made through
 * syscall(2) see the thread they were made on.
 *
 * stress-ng --pthread does, in each thread,
 *   tid1 = syscall(SYS_set_tid_address, addr);   (returns the caller's tid)
 *   tid2 = gettid();                             and fails if they differ.
 * Natively they never differ. Under an M:N runtime the two calls are made by
 * whichever OS thread runs the thread at that moment, so they differ if the
 * thread moves to another OS thread on its way out of syscall(): that must
 * not happen for calls that cannot block and act on the calling kernel
 * thread (gettid, set_tid_address, robust lists, tgkill, prctl, ...).
 *
 * To make such a move likely if the runtime allows it, two busy child
 * processes keep both CPUs loaded, so the OS threads are often descheduled
 * in the middle of a call. Each thread also sleeps now and then, so a
 * runtime has other work to hand its CPU to. Prints one line with the
 * number of checks and exits 1 on the first mismatch.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long iterations = 2000;
static volatile int failed;

static void* worker(void* arg) {
  (void)arg;
  unsigned long addr = 0;
  for (long i = 0; i < iterations && !failed; i++) {
    long a = syscall(SYS_gettid);
    pid_t b = gettid(); /* glibc's wrapper: the kernel, directly */
    if (a != b) {
      fprintf(stderr, "raw_tid: syscall(SYS_gettid) = %ld but gettid() = %d right after\n", a, b);
      failed = 1;
    }
    if (prctl(PR_GET_TID_ADDRESS, &addr, 0, 0, 0) == 0 && addr) {
      long t1 = syscall(SYS_set_tid_address, addr); /* unchanged; returns our tid */
      pid_t t2 = gettid();
      if (t1 != t2) {
        fprintf(stderr, "raw_tid: set_tid_address returned tid %ld, gettid() = %d\n", t1, t2);
        failed = 1;
      }
    }
    if (i % 64 == 0) usleep(50);
  }
  return NULL;
}

int main(int argc, char** argv) {
  int nthreads = argc > 1 ? atoi(argv[1]) : 64;
  if (argc > 2) iterations = atol(argv[2]);
  if (nthreads < 1 || nthreads > 10000 || iterations < 1) {
    fprintf(stderr, "usage: raw_tid [threads 1..10000] [iterations]\n");
    return 2;
  }
  pid_t hogs[2];
  for (int i = 0; i < 2; i++) {
    hogs[i] = fork();
    if (hogs[i] == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      for (;;) {}
    }
  }
  pthread_t* t = calloc((size_t)nthreads, sizeof *t);
  for (int i = 0; i < nthreads; i++)
    if (pthread_create(&t[i], NULL, worker, NULL)) { perror("pthread_create"); return 2; }
  for (int i = 0; i < nthreads; i++) pthread_join(t[i], NULL);
  for (int i = 0; i < 2; i++) {
    kill(hogs[i], SIGKILL);
    waitpid(hogs[i], NULL, 0);
  }
  printf("raw_tid: %d threads x %ld iterations: %s\n", nthreads, iterations,
         failed ? "MISMATCH" : "every call saw its own thread");
  return failed;
}
