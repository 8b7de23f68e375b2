/* treemax [-i USEC] [-t SECS] -- CMD [ARGS...]
 *
 * Runs CMD in its own process group and samples, every USEC microseconds
 * (default 1000), the kernel's thread count ("Threads:" in /proc/PID/status)
 * of CMD and of every process descended from it (stress-ng, for one, does
 * its work in forked children). When CMD ends it prints to stderr
 *
 *   TREEMAX max=<n> comm=<name> procs=<k> samples=<s> status=<exit status>
 *
 * where max is the largest count any one process of the tree had, comm that
 * process's name and procs how many processes the tree had in all. It exits
 * with CMD's status (128+N if signal N killed it). Sampling cannot see a
 * thread that lives less than one interval: max is a lower bound.
 *
 * With -t, a tree still running after SECS seconds is reported (the state,
 * wait channel and system call of each of its threads, so a hang can be
 * diagnosed from the log) and killed with SIGKILL, whole process group;
 * the status is then 137. Descendants are found by scanning /proc for
 * parent links every 16th sample (each known one is read every sample);
 * treemax is a child subreaper, so orphans stay in the tree.
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
static struct proc { int pid, fd; } procs[MAXP];
static int nprocs, total_procs;
static pid_t child;

static void forward(int sig) {
  if (child > 0) kill(-child, sig);
}

static int known(int pid) {
  for (int i = 0; i < nprocs; i++)
    if (procs[i].pid == pid) return 1;
  return 0;
}

static void add(int pid) {
  if (nprocs == MAXP || known(pid)) return;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  procs[nprocs++] = (struct proc){pid, fd};
  total_procs++;
}

/* Reads one "Key:\tvalue" field of an open status file into val; 0 if gone. */
static int status_field(int fd, const char* key, char* val, size_t len) {
  char buf[4096];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
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

/* Parent pid from /proc/PID/stat (the name may hold spaces and parens). */
static int ppid_of(const char* pid) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  int ppid;
  return p && sscanf(p + 1, " %*c %d", &ppid) == 1 ? ppid : -1;
}

/* Adds every process whose parent is already in the tree (repeats until no
 * new one appears, so grandchildren found before their parent are kept). */
static void scan(void) {
  for (int grew = 1; grew;) {
    grew = 0;
    DIR* d = opendir("/proc");
    if (!d) return;
    struct dirent* e;
    while ((e = readdir(d))) {
      if (!isdigit((unsigned char)e->d_name[0])) continue;
      int pid = atoi(e->d_name);
      if (known(pid)) continue;
      int pp = ppid_of(e->d_name);
      if (pp > 0 && known(pp)) { add(pid); grew = 1; }
    }
    closedir(d);
  }
}

static void read_small(const char* path, char* buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, buf, len - 1) : -1;
  if (fd >= 0) close(fd);
  buf[n > 0 ? n : 0] = 0;
  buf[strcspn(buf, "\n")] = 0;
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
    fprintf(stderr, "treemax: timed out; process %d (%s):\n", procs[i].pid, comm);
    struct dirent* e;
    int shown = 0;
    while ((e = readdir(d)) && shown < 64) {
      if (!isdigit((unsigned char)e->d_name[0])) continue;
      char stat[512], wchan[64], sc[128];
      int tid = atoi(e->d_name);
      snprintf(path, sizeof path, "/proc/%d/task/%d/stat", procs[i].pid, tid);
      read_small(path, stat, sizeof stat);
      snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", procs[i].pid, tid);
      read_small(path, wchan, sizeof wchan);
      snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", procs[i].pid, tid);
      read_small(path, sc, sizeof sc);
      char* p = strrchr(stat, ')');
      fprintf(stderr, "  tid %d state %c wchan %s syscall %.40s\n", tid,
              p && p[1] ? p[2] : '?', wchan, sc);
      shown++;
    }
    closedir(d);
  }
}

static void usage(void) {
  fprintf(stderr,
          "usage: treemax [-i USEC] [-t SECS] -- CMD [ARGS...]\n"
          "  samples the kernel thread count of CMD and its descendants every USEC\n"
          "  microseconds (default 1000); kills the tree after SECS seconds (-t);\n"
          "  prints 'TREEMAX max=N comm=C procs=K samples=S status=R' to stderr\n");
  exit(2);
}

static long number(const char* s, long lo, long hi, const char* what) {
  char* end;
  long v = strtol(s, &end, 10);
  if (*end || end == s || v < lo || v > hi) {
    fprintf(stderr, "treemax: %s %s: expected an integer from %ld to %ld\n", what, s, lo, hi);
    exit(2);
  }
  return v;
}

int main(int argc, char** argv) {
  long usec = 1000, secs = 0;
  int opt;
  while ((opt = getopt(argc, argv, "+i:t:h")) != -1) {
    if (opt == 'i') usec = number(optarg, 1, 10000000, "-i");
    else if (opt == 't') secs = number(optarg, 1, 86400, "-t");
    else usage();
  }
  if (optind >= argc) usage();

  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int ready[2]; /* child -> parent: closed on exec, or carries exec's errno */
  if (pipe2(ready, O_CLOEXEC)) { perror("treemax: pipe"); return 2; }
  pid_t parent = getpid();
  child = fork();
  if (child < 0) { perror("treemax: fork"); return 2; }
  if (child == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    close(ready[0]);
    execvp(argv[optind], argv + optind);
    int e = errno;
    if (write(ready[1], &e, sizeof e) < 0) { /* reported as 127 anyway */ }
    _exit(127);
  }
  setpgid(child, child);
  close(ready[1]);
  struct sigaction sa = {.sa_handler = forward};
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);

  add(child); /* before the exec completes: the pid survives it */
  int e = 0;
  ssize_t got;
  while ((got = read(ready[0], &e, sizeof e)) < 0 && errno == EINTR) {}
  close(ready[0]);
  if (got == (ssize_t)sizeof e) fprintf(stderr, "treemax: cannot run %s: %s\n", argv[optind], strerror(e));

  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long max = 0, samples = 0;
  char max_comm[64] = "?";
  int status = 0, timed_out = 0;
  struct timespec gap = {usec / 1000000, (usec % 1000000) * 1000};
  for (long tick = 0;; tick++) {
    pid_t w;
    while ((w = waitpid(-1, &status, WNOHANG)) > 0 && w != child) {} /* reap orphans */
    if (w == child) break;
    if (w < 0 && errno != EINTR) { perror("treemax: waitpid"); return 2; }
    if (tick % 16 == 1) scan();
    for (int i = 0; i < nprocs; i++) {
      char val[64];
      if (!status_field(procs[i].fd, "\nThreads:", val, sizeof val)) continue;
      long n = atol(val);
      if (n > max) {
        max = n;
        status_field(procs[i].fd, "Name:", max_comm, sizeof max_comm);
      }
    }
    samples++;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (secs && !timed_out && (now.tv_sec - start.tv_sec) * 1000000000L + now.tv_nsec - start.tv_nsec >= secs * 1000000000L) {
      scan();
      report_hang();
      kill(-child, SIGKILL);
      for (int i = 0; i < nprocs; i++) kill(procs[i].pid, SIGKILL); /* left the group */
      timed_out = 1;
    }
    clock_nanosleep(CLOCK_MONOTONIC, 0, &gap, NULL);
  }
  kill(-child, SIGKILL); /* leftovers of the group must not outlive the test */
  while (waitpid(-1, NULL, WNOHANG) > 0) {}
  int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  fprintf(stderr, "TREEMAX max=%ld comm=%s procs=%d samples=%ld status=%d%s\n", max, max_comm,
          total_procs, samples, rc, timed_out ? " timeout" : "");
  return rc;
}
