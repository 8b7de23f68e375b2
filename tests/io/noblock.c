/* Calls that may block but this time do not (an uncontended semop, flock
 * and fcntl lock, a msgsnd/msgrcv pair, waitpid on a child that has
 * already exited) while another thread is runnable: no kernel thread of
 * the process goes to sleep for them. Counted from the kernel's side:
 * voluntary context switches of every thread (/proc/self/task/N/status),
 * over 2,000 rounds of 5 such calls; a sleep per call would add 10,000.
 * The bound, 2,000, leaves room for libgreen's own threads (sysmon ticks
 * at least once per time slice), which on a loaded machine take longer.
 * Regression: libgreen handed the P of every call it expects to block to
 * another M as the call began, though most of these return at once (an M
 * woken, then the caller's M parked: two sleeps per call). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/wait.h>

#include "common.h"

static long voluntary_switches(void) {
  DIR* d = opendir("/proc/self/task");
  struct dirent* e;
  long total = 0;
  while (d && (e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[300], line[128];
    snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
    FILE* f = fopen(path, "r");
    long n;
    while (f && fgets(line, sizeof line, f))
      if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1) total += n;
    if (f) fclose(f);
  }
  if (d) closedir(d);
  return total;
}

static volatile int spin_stop;
static void* spinner(void* a) {  /* always runnable */
  (void)a;
  while (!spin_stop) sched_yield();
  return NULL;
}

enum { ROUNDS = 2000, CHILDREN = 50 };

int main(void) {
  int sem = semget(IPC_PRIVATE, 1, 0600), q = msgget(IPC_PRIVATE, 0600);
  CHECK(sem >= 0 && q >= 0, "semget/msgget: errno %d", errno);
  char path[] = "/tmp/green-noblock-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0, "mkstemp: errno %d", errno);
  unlink(path);
  pid_t kids[CHILDREN];
  for (int i = 0; i < CHILDREN; i++) {
    kids[i] = fork();
    if (kids[i] == 0) _exit(i & 7);
    CHECK(kids[i] > 0, "fork: errno %d", errno);
  }
  /* let them all exit: a waitpid on each then returns at once */
  for (int i = 0; i < CHILDREN; i++) {
    siginfo_t si;
    CHECK(waitid(P_PID, (id_t)kids[i], &si, WEXITED | WNOWAIT) == 0, "waitid: errno %d", errno);
  }
  pthread_t t;
  pthread_create(&t, NULL, spinner, NULL);
  usleep(20000);

  long before = voluntary_switches();
  struct sembuf down = {0, -1, 0}, up = {0, 1, 0};
  struct { long type; char c; } msg = {1, 'm'};
  for (int i = 0; i < ROUNDS; i++) {
    CHECK(semop(sem, &up, 1) == 0 && semop(sem, &down, 1) == 0, "semop: errno %d", errno);
    CHECK(flock(fd, LOCK_EX) == 0 && flock(fd, LOCK_UN) == 0, "flock: errno %d", errno);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    CHECK(fcntl(fd, F_SETLKW, &fl) == 0, "F_SETLKW: errno %d", errno);
    fl.l_type = F_UNLCK;
    CHECK(fcntl(fd, F_SETLKW, &fl) == 0, "F_SETLKW unlock: errno %d", errno);
    CHECK(msgsnd(q, &msg, 1, 0) == 0 && msgrcv(q, &msg, 1, 0, 0) == 1 && msg.c == 'm', "msg: errno %d", errno);
  }
  for (int i = 0; i < CHILDREN; i++) {
    int st;
    CHECK(waitpid(kids[i], &st, 0) == kids[i] && WIFEXITED(st) && WEXITSTATUS(st) == (i & 7),
          "waitpid: errno %d", errno);
  }
  long slept = voluntary_switches() - before;
  spin_stop = 1;
  pthread_join(t, NULL);
  semctl(sem, 0, IPC_RMID);
  msgctl(q, IPC_RMID, NULL);
  printf("noblock: %ld voluntary context switches over %d rounds of calls that did not block\n", slept,
         ROUNDS);
  CHECK(slept < ROUNDS, "threads slept %ld times in calls that did not block", slept);
  if (failures) return 1;
  printf("noblock: ok\n");
  return 0;
}
