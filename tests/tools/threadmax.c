/* threadmax [-i USEC] [-d] [-t SECS] -- CMD [ARGS...]
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
 *
 * -d  also samples every process descended from CMD (stress-ng, for one,
 *     works in forked children): max is then the largest count any one
 *     process of the tree had, and " comm=<its name> procs=<processes seen>"
 *     is added to the line. Descendants are found by scanning /proc for
 *     parent links every 16th sample; threadmax becomes a child subreaper,
 *     so orphans stay in the tree.
 * -t  after SECS seconds, prints each remaining thread's state, wait
 *     channel and system call (so a hang can be diagnosed from a log), then
 *     kills CMD's process group (CMD gets one of its own) and every known
 *     descendant with SIGKILL; the line then ends in " timeout".
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
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

enum { MAXP = 4096 };
static struct proc { int pid, fd; } procs[MAXP]; /* procs[0]: CMD itself */
static int nprocs;
static pid_t child;
static int own_group; /* -t: CMD leads its own process group */

static void forward(int sig) {
  if (child > 0) kill(own_group ? -child : child, sig);
}

static int known(int pid) {
  for (int i = 0; i < nprocs; i++)
    if (procs[i].pid == pid) return 1;
  return 0;
}

/* Opens /proc/PID/status and remembers it (even if it cannot be opened:
 * a process we saw but could not read is still in the tree). */
static void add(int pid) {
  if (nprocs == MAXP || known(pid)) return;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  procs[nprocs++] = (struct proc){pid, open(path, O_RDONLY | O_CLOEXEC)};
}

/* One "Key:<blanks>value" field of an open status file into val; 0 if gone. */
static int status_field(int fd, const char* key, char* val, size_t len) {
  char buf[4096];
  ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
  if (n <= 0) return 0;
  buf[n] = 0;
  char* p = strstr(buf, key);
  if (!p) return 0;
  p += strlen(key);
  while (*p == ' ' || *p == '\t') p++;
  size_t i = 0;
  while (p[i] && p[i] != '\n' && i + 1 < len) { val[i] = p[i]; i++; }
  val[i] = 0;
  return 1;
}

static void read_small(const char* path, char* buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
}

/* Adds every process whose parent is in the tree, until none is new (so a
 * grandchild listed before its parent is still found). */
static void scan(void) {
  for (int grew = 1; grew;) {
    grew = 0;
    DIR* d = opendir("/proc");
    if (!d) return;
    struct dirent* e;
    while ((e = readdir(d))) {
      if (!isdigit((unsigned char)e->d_name[0])) continue;
      int pid = atoi(e->d_name), ppid;
      if (known(pid)) continue;
      char path[64], stat[512];
      snprintf(path, sizeof path, "/proc/%d/stat", pid);
      read_small(path, stat, sizeof stat);
      char* p = strrchr(stat, ')'); /* the name may hold spaces and parens */
      if (p && sscanf(p + 1, " %*c %d", &ppid) == 1 && known(ppid)) {
        add(pid);
        grew = 1;
      }
    }
    closedir(d);
  }
}

/* On a timeout: each thread's state, wait channel and current syscall. */
static void report_hang(void) {
  for (int i = 0; i < nprocs; i++) {
    char path[96], comm[64];
    snprintf(path, sizeof path, "/proc/%d/comm", procs[i].pid);
    read_small(path, comm, sizeof comm);
    snprintf(path, sizeof path, "/proc/%d/task", procs[i].pid);
    DIR* d = opendir(path);
    if (!d) continue;
    fprintf(stderr, "threadmax: timed out; process %d (%s):\n", procs[i].pid, comm);
    struct dirent* e;
    for (int shown = 0; (e = readdir(d)) && shown < 64;) {
      if (!isdigit((unsigned char)e->d_name[0])) continue;
      int tid = atoi(e->d_name);
      char stat[512], wchan[64], sc[128];
      snprintf(path, sizeof path, "/proc/%d/task/%d/stat", procs[i].pid, tid);
      read_small(path, stat, sizeof stat);
      snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", procs[i].pid, tid);
      read_small(path, wchan, sizeof wchan);
      snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", procs[i].pid, tid);
      read_small(path, sc, sizeof sc);
      char* p = strrchr(stat, ')');
      fprintf(stderr, "  tid %d state %c wchan %s syscall %.40s\n", tid, p && p[1] ? p[2] : '?',
              wchan, sc);
      shown++;
    }
    closedir(d);
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: threadmax [-i USEC] [-d] [-t SECS] -- CMD [ARGS...]\n"
          "  samples CMD's kernel thread count every USEC microseconds (default 500),\n"
          "  prints 'THREADMAX max=N samples=K status=S' to stderr, exits with S;\n"
          "  -d: also CMD's descendants (max of any one process); -t: kill after SECS\n");
  exit(2);
}

static long number(const char* opt, const char* s, long lo, long hi, const char* what) {
  char* end;
  long v = strtol(s, &end, 10);
  if (*end || end == s || v < lo || v > hi) {
    fprintf(stderr, "threadmax: %s %s: expected %s from %ld to %ld\n", opt, s, what, lo, hi);
    exit(2);
  }
  return v;
}

int main(int argc, char** argv) {
  long usec = 500, secs = 0;
  int tree = 0, opt;
  while ((opt = getopt(argc, argv, "+i:dt:h")) != -1) {
    if (opt == 'i') usec = number("-i", optarg, 1, 10000000, "microseconds");
    else if (opt == 'd') tree = 1;
    else if (opt == 't') secs = number("-t", optarg, 1, 86400, "seconds");
    else usage();
  }
  if (optind >= argc) usage();
  own_group = secs > 0;
  if (tree) prctl(PR_SET_CHILD_SUBREAPER, 1);

  int ready[2]; /* child -> parent: closed on exec, or carries exec's errno */
  if (pipe2(ready, O_CLOEXEC)) { perror("threadmax: pipe"); return 2; }
  pid_t parent = getpid();
  child = fork();
  if (child < 0) { perror("threadmax: fork"); return 2; }
  if (child == 0) {
    if (own_group) setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    close(ready[0]);
    execvp(argv[optind], argv + optind);
    int e = errno;
    if (write(ready[1], &e, sizeof e) < 0) { /* the parent reports 127 anyway */ }
    _exit(127);
  }
  if (own_group) setpgid(child, child); /* whichever of the two runs first */
  close(ready[1]);
  struct sigaction sa = {.sa_handler = forward};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  /* Open the status file before the exec completes, so that no sample is
   * lost to start-up; the pid (and the file) survive the exec. */
  add(child);
  int e = 0;
  ssize_t got;
  while ((got = read(ready[0], &e, sizeof e)) < 0 && errno == EINTR) {}
  close(ready[0]);
  if (got == (ssize_t)sizeof e)
    fprintf(stderr, "threadmax: cannot run %s: %s\n", argv[optind], strerror(e));

  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long max = 0, samples = 0;
  char max_comm[64] = "?";
  int status = 0, timed_out = 0;
  struct timespec gap = {usec / 1000000, (usec % 1000000) * 1000};
  for (long tick = 0;; tick++) {
    pid_t w;
    while ((w = waitpid(tree ? -1 : child, &status, WNOHANG)) > 0 && w != child) {} /* orphans */
    if (w == child) break;
    if (w < 0 && errno != EINTR) { perror("threadmax: waitpid"); return 2; }
    if (tree && tick % 16 == 1) scan();
    int counted = 0;
    for (int i = 0; i < nprocs; i++) {
      char val[64];
      if (!status_field(procs[i].fd, "\nThreads:", val, sizeof val)) continue;
      counted = 1;
      long n = atol(val);
      if (n > max) {
        max = n;
        if (tree) status_field(procs[i].fd, "Name:", max_comm, sizeof max_comm);
      }
    }
    samples += counted;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (secs && !timed_out &&
        (now.tv_sec - start.tv_sec) * 1000000000L + now.tv_nsec - start.tv_nsec >= secs * 1000000000L) {
      if (tree) scan();
      report_hang();
      kill(-child, SIGKILL);
      for (int i = 1; i < nprocs; i++) kill(procs[i].pid, SIGKILL); /* left the group */
      timed_out = 1;
    }
    clock_nanosleep(CLOCK_MONOTONIC, 0, &gap, NULL);
  }
  if (own_group) kill(-child, SIGKILL); /* what is left of the group must not outlive it */
  if (tree) /* reap orphans; after a timeout all were killed: wait for them */
    while (waitpid(-1, NULL, timed_out ? 0 : WNOHANG) > 0) {}
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(stderr, "THREADMAX max=%ld samples=%ld status=%d", max, samples, rc);
  if (tree) fprintf(stderr, " comm=%s procs=%d", max_comm, nprocs);
  fprintf(stderr, "%s\n", timed_out ? " timeout" : "");
  return rc;
}
