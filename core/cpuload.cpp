// Whether the machine has a CPU to spare for a spinning M.
//
// An M that found no work spins a while (sched.cpp, poll_for_work) so that
// work readied meanwhile costs no futex wake-up. That pays only while a
// CPU would otherwise sit idle: when every CPU already has a runnable
// thread (another process, the load generator of a server, our own busy
// Ms), the spin takes its CPU from one of them. sysmon samples the
// kernel's count of runnable threads, machine-wide (/proc/loadavg, field
// 4), and keeps a moving average of the threads other than itself and our
// spinning Ms; spinning is allowed while that average is below the number
// of CPUs the process may run on.
//
// Invariants:
//  - only sysmon samples (cpuload_sample), at most once per SAMPLE_NS;
//    anyone reads the answer (cpu_spare), one relaxed load;
//  - no sample yet, or /proc unreadable: spare (spinning as before).
#include <sched.h>
#include <stdlib.h>

#include "internal.h"
#include "os.h"

namespace green {

namespace {

constexpr int64_t SAMPLE_NS = 1000 * 1000;
constexpr int SHIFT = 3;       // moving average over ~8 samples
constexpr int64_t ONE = 256;   // fixed point

std::atomic<bool> spare{true};
os::kept_file loadavg{"/proc/loadavg"};
int64_t last_sample;
int64_t avg = -1;  // runnable threads besides sysmon and our spinning Ms, x ONE
int ncpu;

int cpus_allowed() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
  int n = CPU_COUNT(&set);
  return n > 0 ? n : 1;
}

// "0.52 0.58 0.59 3/467 12345": the runnable count, or -1.
int runnable_now() {
  char buf[128];
  int had = loadavg.fd;
  int n = os::read_kept(loadavg, buf, sizeof buf);
  if (loadavg.fd != had) {  // (re)opened: the program's close family leaves it alone
    ownfd_del(had);
    ownfd_add(loadavg.fd, &loadavg.fd, nullptr);
  }
  if (n <= 0) return -1;
  const char* p = buf;
  for (int field = 0; field < 3; field++) {
    while (*p && *p != ' ') p++;
    while (*p == ' ') p++;
  }
  if (*p < '0' || *p > '9') return -1;
  return atoi(p);
}

}  // namespace

void cpuload_sample(int64_t now) {
  if (now - last_sample < SAMPLE_NS) return;
  last_sample = now;
  if (!ncpu) ncpu = cpus_allowed();
  int r = runnable_now();
  if (r < 0) return;
  int others = r - 1 - sched.nmspinning.load(std::memory_order_relaxed);
  if (others < 0) others = 0;
  avg = avg < 0 ? others * ONE : avg + ((others * ONE - avg) >> SHIFT);
  spare.store(avg < ncpu * ONE, std::memory_order_relaxed);
}

bool cpu_spare() { return spare.load(std::memory_order_relaxed); }

}  // namespace green
