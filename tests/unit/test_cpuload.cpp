// sysmon's view of the machine: /proc files read through a descriptor kept
// at a high number (os::read_kept), and cpuload's answer to "would a
// spinning M take a CPU from a runnable thread?".
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "internal.h"
#include "os.h"

using namespace green;

static int lowest_free() {
  int fd = open("/dev/null", O_RDONLY);
  close(fd);
  return fd;
}

static bool looks_like_loadavg(const char* s) { return strchr(s, '/') && strchr(s, '.'); }

Test(read_kept, reads_without_taking_a_low_number) {
  os::kept_file f{"/proc/loadavg"};
  int low = lowest_free();
  char buf[128];
  cr_assert_gt(os::read_kept(f, buf, sizeof buf), 0);
  cr_expect(looks_like_loadavg(buf), "read: %s", buf);
  cr_expect_geq(f.fd, 512, "kept at %d", f.fd);  // 1024, or half a small limit
  cr_expect_eq(lowest_free(), low, "the application's next descriptor changed");
  int kept = f.fd;
  cr_assert_gt(os::read_kept(f, buf, sizeof buf), 0);
  cr_expect_eq(f.fd, kept, "opened again although still valid");
}

Test(read_kept, reopens_after_the_application_reused_the_number) {
  os::kept_file f{"/proc/loadavg"};
  char buf[128];
  cr_assert_gt(os::read_kept(f, buf, sizeof buf), 0);
  int kept = f.fd;
  int other = open("/etc/hostname", O_RDONLY);  // the application's own file
  cr_assert_geq(other, 0);
  cr_assert_eq(dup2(other, kept), kept);
  cr_assert_gt(os::read_kept(f, buf, sizeof buf), 0);
  cr_expect(looks_like_loadavg(buf), "read the application's file: %s", buf);
  cr_expect_neq(f.fd, kept);
  char mine[8];
  cr_expect_gt(pread(kept, mine, sizeof mine, 0), 0, "the application's descriptor was closed");
  close(other);
  close(kept);
  close(f.fd);  // closed under it: opened again
  cr_assert_gt(os::read_kept(f, buf, sizeof buf), 0);
  cr_expect(looks_like_loadavg(buf), "%s", buf);
}

// Twice as many spinning threads as CPUs: every sample sees more runnable
// threads than CPUs, so spinning is not allowed. (Only this direction: on
// a shared machine other load may legitimately take the spare CPUs.)
Test(cpuload, oversubscribed_machine_has_no_cpu_to_spare) {
  cpu_set_t set;
  cr_assert_eq(sched_getaffinity(0, sizeof set, &set), 0);
  int ncpu = CPU_COUNT(&set);
  std::atomic<bool> stop{false};
  std::vector<std::thread> hogs;
  for (int i = 0; i < 2 * ncpu; i++)
    hogs.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  int64_t now = nanotime();
  for (int i = 0; i < 40 && cpu_spare(); i++) {
    now += 2 * 1000 * 1000;  // one sample per call (at most one per millisecond)
    cpuload_sample(now);
    usleep(1000);
  }
  bool spare = cpu_spare();
  stop = true;
  for (auto& t : hogs) t.join();
  cr_expect_not(spare, "%d hogs on %d CPUs, yet a CPU to spare", 2 * ncpu, ncpu);
}
