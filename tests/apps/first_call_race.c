/* first_call_race [runs]: many threads make their first call of a blocking
 * libc function at the same moment, in each of `runs` fresh processes.
 *
 * Found by stress-ng --pthread under libgreen: its threads all end in
 * sigtimedwait(). libgreen's wrapper looked the real function up (dlsym, in
 * a C++ function-local static guarded by __cxa_guard_acquire) only after
 * entering a syscall section. A thread arriving during that first lookup
 * waited on the guard with syscall(SYS_futex), parking inside the first
 * thread's section: the process then crashed in syscall_exit (or an
 * assertion fired in a debug build).
 *
 * The window is the first lookup, normally a microsecond or two. To make it
 * wide, the main thread dlopen()s a large library (libcrypto, else
 * libstdc++, if present and not yet loaded) as the workers start: dlopen
 * holds the loader's lock for milliseconds, and dlsym waits for it. Each
 * worker busy-waits 300 us after the start so that dlopen holds the lock
 * by then, then calls sigtimedwait (1 ms, nothing pending: EAGAIN), open +
 * pread of /dev/zero, and checks the results.
 *
 * Each run is a new process (this program re-executed with "child"), so
 * each has its own first call. Exits 1 if a run fails.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { THREADS = 64 };
static atomic_int go, ready, bad;

static long now_us(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

static void* worker(void* arg) {
  (void)arg;
  atomic_fetch_add(&ready, 1);
  while (!atomic_load(&go)) sched_yield();
  for (long t0 = now_us(); now_us() - t0 < 300;) {}
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  struct timespec ts = {0, 1000000};
  if (sigtimedwait(&set, NULL, &ts) != -1 || errno != EAGAIN) {
    fprintf(stderr, "first_call_race: sigtimedwait: expected EAGAIN, got %s\n", strerror(errno));
    atomic_fetch_add(&bad, 1);
  }
  int fd = open("/dev/zero", O_RDONLY);
  char buf[64];
  memset(buf, 1, sizeof buf);
  if (fd < 0 || pread(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf || buf[0] || buf[63]) {
    fprintf(stderr, "first_call_race: open/pread of /dev/zero failed\n");
    atomic_fetch_add(&bad, 1);
  }
  if (fd >= 0) close(fd);
  return NULL;
}

static int child(void) {
  /* A blocking call first (a runtime may start helpers on its first one),
   * but none of the functions under test. */
  int fd = open("/dev/zero", O_RDONLY);
  if (fd < 0 || read(fd, &fd, 0) != 0) return 2;
  close(fd);
  static const char* const libs[] = {"libcrypto.so.3", "libstdc++.so.6"};
  const char* lib = NULL;
  for (size_t i = 0; i < sizeof libs / sizeof *libs && !lib; i++)
    if (!dlopen(libs[i], RTLD_NOW | RTLD_NOLOAD)) lib = libs[i];
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &set, NULL); /* inherited by every thread */
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    if (pthread_create(&t[i], NULL, worker, NULL)) return 2;
  while (atomic_load(&ready) < THREADS) sched_yield();
  atomic_store(&go, 1);
  if (lib) dlopen(lib, RTLD_NOW); /* a missing library only narrows the window */
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  return atomic_load(&bad) ? 1 : 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) return child();
  int runs = argc > 1 ? atoi(argv[1]) : 10;
  if (runs < 1) {
    fprintf(stderr, "usage: first_call_race [runs >= 1]\n");
    return 2;
  }
  for (int r = 0; r < runs; r++) {
    pid_t pid = fork();
    if (pid == 0) {
      execl("/proc/self/exe", argv[0], "child", (char*)NULL);
      _exit(127);
    }
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid) {
      perror("first_call_race");
      return 2;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st)) {
      fprintf(stderr, "first_call_race: run %d: %s %d\n", r,
              WIFSIGNALED(st) ? "killed by signal" : "exit status",
              WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
      return 1;
    }
  }
  printf("first_call_race: %d runs of %d threads: every first call returned correctly\n", runs, THREADS);
  return 0;
}
