/* oversub: short system calls on an oversubscribed machine. The program
 * starts CPU-bound child processes (three per CPU), then 64 threads each
 * open, read and close a /proc file 300 times: calls that never sleep, but
 * whose kernel thread is often waiting for a CPU mid-call. Handing the
 * caller's P to another kernel thread then buys nothing (there is no CPU
 * for it either) and only adds kernel threads: under libgreen the peak
 * (PEAK_THREADS, sampled from /proc) must stay near GREEN_PROCS.
 * Natively: 65+ threads. Prints the totals read, which must be exact. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "common.h"

enum { THREADS = 64, ROUNDS = 300 };

static long bytes[THREADS];

static void* reader(void* arg) {
  long i = (long)arg;
  char buf[512];
  for (int r = 0; r < ROUNDS; r++) {
    int fd = open("/proc/self/stat", O_RDONLY);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) bytes[i]++;
    close(fd);
  }
  return NULL;
}

int main(void) {
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  int nhogs = (int)(ncpu > 0 ? ncpu : 1) * 3;
  pid_t hogs[64];
  if (nhogs > 64) nhogs = 64;
  for (int i = 0; i < nhogs; i++) {
    hogs[i] = fork();
    if (hogs[i] == 0) {
      alarm(60);  /* never outlive a killed parent for long */
      for (;;) __asm__ volatile("" ::: "memory");
    }
    CHECK(hogs[i] > 0, "fork failed");
  }
  monitor_start();
  pthread_t t[THREADS];
  for (long i = 0; i < THREADS; i++) CHECK(pthread_create(&t[i], NULL, reader, (void*)i) == 0, "create %ld", i);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  int peak = monitor_end();
  for (int i = 0; i < nhogs; i++) {
    if (hogs[i] > 0) kill(hogs[i], SIGKILL);
    if (hogs[i] > 0) waitpid(hogs[i], NULL, 0);
  }
  long total = 0;
  for (int i = 0; i < THREADS; i++) total += bytes[i];
  CHECK(total == (long)THREADS * ROUNDS, "%ld reads succeeded, expected %d", total, THREADS * ROUNDS);
  printf("oversub: %ld reads by %d threads beside %d CPU hogs\n", total, THREADS, nhogs);
  printf("PEAK_THREADS %d\n", peak);
  return failures ? 1 : 0;
}
