/* threadmax [-i USEC] -- CMD [ARGS...]
 *
 * Runs CMD and samples, every USEC microseconds (default 500), how many
 * kernel threads its process has ("Threads:" in /proc/PID/status: the
 * kernel's own count, not the runtime's). When CMD ends it prints
 *
 *   THREADMAX max=<n> samples=<k> status=<exit status>
 *
 * to stderr and exits with CMD's status (128+N if signal N killed it), so
 * it can sit in front of any command in a test script. It is the /proc
 * fallback for greenstat: a sample misses a thread that lives less than one
 * interval, so a max is a lower bound on the true peak. CMD keeps its pid
 * across exec, so `threadmax -- env LD_PRELOAD=... prog` measures prog,
 * while threadmax itself runs without the preload. CMD is killed if
 * threadmax dies; SIGINT/SIGTERM/SIGHUP sent to threadmax go to CMD.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;

static void forward(int sig) {
  if (child > 0) kill(child, sig);
}

/* Threads: of an open /proc/PID/status, or -1 (the process is gone). */
static long threads_of(int fd) {
  char buf[4096];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = 0;
  char* p = strstr(buf, "\nThreads:");
  return p ? strtol(p + 9, NULL, 10) : -1;
}

static void usage(void) {
  fprintf(stderr, "usage: threadmax [-i USEC] -- CMD [ARGS...]\n"
                  "  samples CMD's kernel thread count every USEC microseconds (default 500),\n"
                  "  prints 'THREADMAX max=N samples=K status=S' to stderr, exits with S\n");
  exit(2);
}

int main(int argc, char** argv) {
  long usec = 500;
  int opt;
  while ((opt = getopt(argc, argv, "+i:h")) != -1) {
    if (opt != 'i') usage();
    char* end;
    usec = strtol(optarg, &end, 10);
    if (*end || usec < 1 || usec > 10000000) {
      fprintf(stderr, "threadmax: -i %s: expected microseconds from 1 to 10000000\n", optarg);
      return 2;
    }
  }
  if (optind >= argc) usage();

  int ready[2]; /* child -> parent: closed on exec, or carries exec's errno */
  if (pipe2(ready, O_CLOEXEC)) { perror("threadmax: pipe"); return 2; }
  pid_t parent = getpid();
  child = fork();
  if (child < 0) { perror("threadmax: fork"); return 2; }
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    close(ready[0]);
    execvp(argv[optind], argv + optind);
    int e = errno;
    if (write(ready[1], &e, sizeof e) < 0) { /* the parent reports 127 anyway */ }
    _exit(127);
  }
  close(ready[1]);
  struct sigaction sa = {.sa_handler = forward};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  /* Open the status file before the exec completes, so that no sample is
   * lost to start-up; the pid (and the file) survive the exec. */
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", (int)child);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int e = 0;
  ssize_t got;
  while ((got = read(ready[0], &e, sizeof e)) < 0 && errno == EINTR) {}
  close(ready[0]);
  if (got == (ssize_t)sizeof e)
    fprintf(stderr, "threadmax: cannot run %s: %s\n", argv[optind], strerror(e));

  long max = 0, samples = 0;
  int status;
  struct timespec gap = {usec / 1000000, (usec % 1000000) * 1000};
  for (;;) {
    pid_t w = waitpid(child, &status, WNOHANG);
    if (w == child) break;
    if (w < 0 && errno != EINTR) { perror("threadmax: waitpid"); return 2; }
    long n = fd >= 0 ? threads_of(fd) : -1;
    if (n >= 0) {
      samples++;
      if (n > max) max = n;
    }
    clock_nanosleep(CLOCK_MONOTONIC, 0, &gap, NULL);
  }
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(stderr, "THREADMAX max=%ld samples=%ld status=%d\n", max, samples, rc);
  return rc;
}
