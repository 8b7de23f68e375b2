/* handoff_latency [ROUNDS [semop|futex]]: how soon does another thread run
 * when one blocks in a system call? Meant for ONE CPU (`taskset -c 0` both ways),
 * under libgreen with GREEN_PROCS=1 (one P), where the blocked G's P must
 * be handed to another M by sysmon.
 *
 * Thread B spins on sched_yield, watching a round counter. Thread A, each
 * round, takes a timestamp, bumps the counter and blocks in semop() on a
 * SysV semaphore (a call that cannot be made asynchronous). When B next
 * runs it sees the new round, takes the latency (now - A's timestamp) and
 * releases A with semop(+1). ROUNDS rounds (default 2,000); every round
 * must be seen exactly once (checked).
 * With "futex" A blocks in syscall(SYS_futex, FUTEX_WAIT) on a word in
 * shared memory instead (as a process-shared lock waits) and B wakes it
 * with FUTEX_WAKE: a call libgreen cannot know will block (semop announces
 * it: its P is handed on at once), so there sysmon must notice the P.
 *   RESULT name=handoff_latency[_futex] p50_us=<us> p99_us=<us> rounds=<n> */
#include "common.h"

#include <sched.h>
#include <stdatomic.h>
#include <sys/ipc.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/syscall.h>

static int semid, use_futex;
static atomic_int* futex_word;  /* MAP_SHARED: a shared futex, made in the kernel */
static long rounds;
static atomic_long round_no;
static _Atomic long long blocked_at;
static long long* lat;

static void* blocker(void* arg) {
  (void)arg;
  struct sembuf down = {0, -1, 0};
  for (long r = 1; r <= rounds; r++) {
    atomic_store(&blocked_at, now_ns());
    if (use_futex) atomic_store(futex_word, 0);
    atomic_store(&round_no, r);
    if (use_futex) {
      while (atomic_load(futex_word) == 0)
        if (syscall(SYS_futex, futex_word, FUTEX_WAIT, 0, NULL, NULL, 0) && errno != EAGAIN &&
            errno != EINTR)
          return (void*)1;
      continue;
    }
    while (semop(semid, &down, 1)) {
      if (errno != EINTR) return (void*)1;
    }
  }
  return NULL;
}

static void* watcher(void* arg) {
  (void)arg;
  struct sembuf up = {0, 1, 0};
  long seen = 0;
  while (seen < rounds) {
    long r = atomic_load(&round_no);
    if (r == seen) {
      sched_yield();
      continue;
    }
    if (r != seen + 1) return (void*)1; /* a round was missed */
    lat[seen] = now_ns() - atomic_load(&blocked_at);
    seen = r;
    if (use_futex) {
      atomic_store(futex_word, 1);
      syscall(SYS_futex, futex_word, FUTEX_WAKE, 1, NULL, NULL, 0);
    } else if (semop(semid, &up, 1)) {
      return (void*)1;
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  rounds = arg_long(argc, argv, 1, 2000, "handoff_latency [ROUNDS>0 [semop|futex]]");
  if (argc > 2 && strcmp(argv[2], "futex") && strcmp(argv[2], "semop"))
    DIE("usage: handoff_latency [ROUNDS>0 [semop|futex]]");
  use_futex = argc > 2 && !strcmp(argv[2], "futex");
  futex_word = mmap(NULL, sizeof *futex_word, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (futex_word == MAP_FAILED) DIE("handoff_latency: mmap: %s", strerror(errno));
  lat = calloc((size_t)rounds, sizeof *lat);
  semid = semget(IPC_PRIVATE, 1, 0600);
  if (!lat || semid < 0) DIE("handoff_latency: semget: %s", strerror(errno));
  pthread_t a, b;
  void *ra, *rb;
  pthread_create(&b, NULL, watcher, NULL);
  pthread_create(&a, NULL, blocker, NULL);
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  semctl(semid, 0, IPC_RMID);
  if (ra || rb) DIE("handoff_latency: %s failed", ra ? "blocker" : "watcher (missed a round)");
  long long p50 = quantile(lat, rounds, 0.5), p99 = quantile(lat, rounds, 0.99);
  printf("handoff_latency: %ld rounds\n", rounds);
  printf("RESULT name=handoff_latency%s p50_us=%.1f p99_us=%.1f rounds=%ld\n", use_futex ? "_futex" : "", p50 / 1e3, p99 / 1e3, rounds);
  return 0;
}
