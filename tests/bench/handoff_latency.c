/* handoff_latency [ROUNDS]: how soon does another thread run when one
 * blocks in a system call? Meant for ONE CPU (`taskset -c 0` both ways),
 * under libgreen with GREEN_PROCS=1 (one P), where the blocked G's P must
 * be handed to another M by sysmon.
 *
 * Thread B spins on sched_yield, watching a round counter. Thread A, each
 * round, takes a timestamp, bumps the counter and blocks in semop() on a
 * SysV semaphore (a call that cannot be made asynchronous). When B next
 * runs it sees the new round, takes the latency (now - A's timestamp) and
 * releases A with semop(+1). ROUNDS rounds (default 2,000); every round
 * must be seen exactly once (checked).
 *   RESULT name=handoff_latency p50_us=<us> p99_us=<us> rounds=<n> */
#include "common.h"

#include <sched.h>
#include <stdatomic.h>
#include <sys/ipc.h>
#include <sys/sem.h>

static int semid;
static long rounds;
static atomic_long round_no;
static _Atomic long long blocked_at;
static long long* lat;

static void* blocker(void* arg) {
  (void)arg;
  struct sembuf down = {0, -1, 0};
  for (long r = 1; r <= rounds; r++) {
    atomic_store(&blocked_at, now_ns());
    atomic_store(&round_no, r);
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
    if (semop(semid, &up, 1)) return (void*)1;
  }
  return NULL;
}

int main(int argc, char** argv) {
  rounds = arg_long(argc, argv, 1, 2000, "handoff_latency [ROUNDS>0]");
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
  printf("RESULT name=handoff_latency p50_us=%.1f p99_us=%.1f rounds=%ld\n", p50 / 1e3, p99 / 1e3, rounds);
  return 0;
}
