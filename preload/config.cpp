// GREEN_PROCS       1..1024            default: CPUs we may use (affinity, cgroup v2 cpu.max)
// GREEN_STACK_SIZE  16384..1 GiB       default: RLIMIT_STACK as NPTL (2 MiB if unlimited)
// GREEN_STATS       0 | 1              default: 0
// GREEN_MAX_MS      GREEN_PROCS..100000  default: 10000 (Ms alive at once)
// GREEN_TIMESLICE_US  0 (never preempt) | 100..10000000  default: 10000
// GREEN_PREEMPT_SIGNAL  SIGRTMIN..SIGRTMAX (a number, or RTMIN+n / RTMAX-n)  default: RTMAX-1
// GREEN_DEBUG       comma-separated: schedtrace=MS (1..100000)           default: none
// GREEN_DUMP_SIGNAL  off | a signal (name or number) other than the fault
//                    signals, KILL, STOP and GREEN_PREEMPT_SIGNAL  default: off
// GREEN_DEADLOCK    report | abort | off  default: report
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

namespace green::preload {

namespace {

constexpr long MAX_PROCS = 1024;
constexpr long MIN_STACK = 16384;
constexpr long MAX_STACK = 1L << 30;

void complain(const char* name, const char* value, const char* expected) {
  fprintf(stderr, "libgreen: %s=%s is invalid: expected %s\n", name, value, expected);
}

bool parse_long(const char* s, long* out, const char** end) {
  if (!*s) return false;
  char* e;
  errno = 0;
  long v = strtol(s, &e, 10);
  if (errno || e == s) return false;
  *out = v;
  *end = e;
  return true;
}

// cgroup v2 cpu.max of our own cgroup: "max PERIOD" or "QUOTA PERIOD".
int cgroup_cpus() {
  char line[4096];
  FILE* f = fopen("/proc/self/cgroup", "re");
  if (!f) return 0;
  char path[4096] = "";
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "0::", 3) == 0) snprintf(path, sizeof path, "%s", line + 3);
  fclose(f);
  path[strcspn(path, "\n")] = 0;
  if (!path[0]) return 0;
  char file[sizeof path + 32];
  snprintf(file, sizeof file, "/sys/fs/cgroup%s/cpu.max", path);
  f = fopen(file, "re");
  if (!f) return 0;
  long quota = 0, period = 0;
  char q[32];
  int n = fscanf(f, "%31s %ld", q, &period);
  fclose(f);
  if (n != 2 || strcmp(q, "max") == 0 || period <= 0) return 0;
  quota = atol(q);
  return quota > 0 ? (int)((quota + period - 1) / period) : 0;
}

size_t default_stack() {
  struct rlimit rl;
  size_t s = 2 << 20;
  if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) s = rl.rlim_cur;
  if (s < (size_t)MIN_STACK) s = MIN_STACK;
  return (s + 4095) & ~size_t(4095);
}

// "40", "RTMIN+3", "SIGRTMAX-1": a real-time signal number, or -1.
int parse_rt_signal(const char* s) {
  if (strncmp(s, "SIG", 3) == 0) s += 3;
  long base = 0, v;
  const char* end;
  if (strncmp(s, "RTMIN", 5) == 0 || strncmp(s, "RTMAX", 5) == 0) {
    base = s[4] == 'N' ? SIGRTMIN : SIGRTMAX;
    s += 5;
    if (!*s) return (int)base;
    if ((*s != '+' && *s != '-') || !parse_long(s + 1, &v, &end) || *end) return -1;
    v = *s == '+' ? base + v : base - v;
  } else if (!parse_long(s, &v, &end) || *end) {
    return -1;
  }
  return v >= SIGRTMIN && v <= SIGRTMAX ? (int)v : -1;
}

// "QUIT", "SIGUSR1", "12", "RTMIN+2": a signal number, or -1.
int parse_signal(const char* s) {
  const char* name = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
  if (strncmp(name, "RTMIN", 5) == 0 || strncmp(name, "RTMAX", 5) == 0) return parse_rt_signal(s);
  long v;
  const char* end;
  if (parse_long(s, &v, &end) && !*end) return v >= 1 && v <= SIGRTMAX ? (int)v : -1;
  for (int i = 1; i < SIGRTMIN; i++) {
    const char* abbrev = sigabbrev_np(i);
    if (abbrev && strcasecmp(abbrev, name) == 0) return i;
  }
  return -1;
}

// Signals the dump may not take: uncatchable, faults (a dump would hide the
// crash), the C library's internal ones, libgreen's own.
bool reserved_signal(int sig, int preempt) {
  switch (sig) {
    case SIGKILL: case SIGSTOP: case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE:
    case SIGTRAP: case SIGABRT: case SIGSYS:
      return true;
  }
  return (sig >= 32 && sig < SIGRTMIN) || sig == preempt;
}

}  // namespace

int default_procs() {
  cpu_set_t set;
  int n = 0;
  if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
  int cg = cgroup_cpus();
  if (cg > 0 && cg < n) n = cg;
  if (n < 1) n = 1;
  return n > MAX_PROCS ? (int)MAX_PROCS : n;
}

bool read_config(config* cfg) {
  cfg->procs = default_procs();
  cfg->stack_size = default_stack();
  cfg->stats = false;
  const char* e;
  const char* end;
  long v;
  if ((e = getenv("GREEN_PROCS"))) {
    if (!parse_long(e, &v, &end) || *end || v < 1 || v > MAX_PROCS) {
      complain("GREEN_PROCS", e, "an integer from 1 to 1024");
      return false;
    }
    cfg->procs = (int)v;
  }
  if ((e = getenv("GREEN_STACK_SIZE"))) {
    long mult = 1;
    bool ok = parse_long(e, &v, &end);
    if (ok && *end) {
      switch (*end) {
        case 'k': case 'K': mult = 1L << 10; break;
        case 'm': case 'M': mult = 1L << 20; break;
        case 'g': case 'G': mult = 1L << 30; break;
        default: ok = false;
      }
      ok = ok && end[1] == 0;
    }
    if (!ok || v < 0 || v > MAX_STACK / mult || v * mult < MIN_STACK) {
      complain("GREEN_STACK_SIZE", e,
               "a size from 16384 to 1073741824 bytes (suffixes k, m, g allowed)");
      return false;
    }
    cfg->stack_size = ((size_t)(v * mult) + 4095) & ~size_t(4095);
  }
  if ((e = getenv("GREEN_MAX_MS"))) {
    if (!parse_long(e, &v, &end) || *end || v < cfg->procs || v > 100000) {
      char range[96];
      snprintf(range, sizeof range, "an integer from %d (GREEN_PROCS) to 100000", cfg->procs);
      complain("GREEN_MAX_MS", e, range);
      return false;
    }
    cfg->max_ms = (int)v;
  }
  if ((e = getenv("GREEN_TIMESLICE_US"))) {
    if (!parse_long(e, &v, &end) || *end || (v != 0 && (v < 100 || v > 10000000))) {
      complain("GREEN_TIMESLICE_US", e, "0 (no preemption) or an integer from 100 to 10000000");
      return false;
    }
    cfg->timeslice_us = (int)v;
  }
  if ((e = getenv("GREEN_PREEMPT_SIGNAL"))) {
    int sig = parse_rt_signal(e);
    if (sig < 0) {
      char range[128];
      snprintf(range, sizeof range, "a real-time signal from %d to %d (or RTMIN+n, RTMAX-n)",
               SIGRTMIN, SIGRTMAX);
      complain("GREEN_PREEMPT_SIGNAL", e, range);
      return false;
    }
    cfg->preempt_signal = sig;
  }
  if ((e = getenv("GREEN_DEBUG")) && *e) {
    const char* p = e;
    while (*p) {
      if (strncmp(p, "schedtrace=", 11) != 0 || !parse_long(p + 11, &v, &end) ||
          (*end && *end != ',') || v < 1 || v > 100000) {
        complain("GREEN_DEBUG", e, "a comma-separated list of schedtrace=MS (MS from 1 to 100000)");
        return false;
      }
      cfg->schedtrace_ms = (int)v;
      p = *end ? end + 1 : end;
    }
  }
  if ((e = getenv("GREEN_DUMP_SIGNAL"))) {
    int preempt = cfg->preempt_signal ? cfg->preempt_signal : SIGRTMAX - 1;
    int sig = strcmp(e, "off") == 0 ? 0 : parse_signal(e);
    if (sig < 0 || (sig > 0 && reserved_signal(sig, preempt))) {
      char what[192];
      snprintf(what, sizeof what,
               "off or a signal name or number (such as QUIT, SIGUSR1, 10, RTMIN+2) other than "
               "KILL, STOP, SEGV, BUS, ILL, FPE, TRAP, ABRT, SYS and %d (GREEN_PREEMPT_SIGNAL)",
               preempt);
      complain("GREEN_DUMP_SIGNAL", e, what);
      return false;
    }
    cfg->dump_signal = sig;
  }
  if ((e = getenv("GREEN_DEADLOCK"))) {
    if (strcmp(e, "report") == 0) {
      cfg->deadlock = deadlock_action::report;
    } else if (strcmp(e, "abort") == 0) {
      cfg->deadlock = deadlock_action::abort_process;
    } else if (strcmp(e, "off") == 0) {
      cfg->deadlock = deadlock_action::off;
    } else {
      complain("GREEN_DEADLOCK", e, "report, abort or off");
      return false;
    }
  }
  if ((e = getenv("GREEN_STATS"))) {
    if (strcmp(e, "0") != 0 && strcmp(e, "1") != 0) {
      complain("GREEN_STATS", e, "0 or 1");
      return false;
    }
    cfg->stats = e[0] == '1';
  }
  return true;
}

}  // namespace green::preload
