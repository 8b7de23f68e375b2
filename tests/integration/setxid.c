/* setxid: seteuid/setegid while many threads exist, sleeping and running.
 *
 * Linux keeps credentials per kernel thread; glibc makes set*id() apply to
 * every thread of the process (it signals each thread it knows, and waits
 * until all have changed). Checked: the call returns (a runtime that shows
 * glibc threads it cannot signal makes it wait for ever), every kernel
 * thread of the process then has the new effective ids
 * (/proc/self/task/TID/status), and every thread sees them itself
 * (geteuid/getegid on whatever kernel thread runs it), and back again.
 * Needs root (exit 77 otherwise). Exit 0 when all hold. */
#define _GNU_SOURCE
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../include/check.h"

#define SLEEPERS 1000
#define SPINNERS 4
#define NOBODY 65534

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase;
static volatile int stop;
static int wrong;

/* waits for each phase, then reports whether it sees the phase's ids */
static void* sleeper(void* a) {
  (void)a;
  for (int want = 1; want <= 2; want++) {
    pthread_mutex_lock(&mu);
    while (phase < want) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    uid_t u = want == 1 ? NOBODY : 0;
    if (geteuid() != u || getegid() != u) __atomic_fetch_add(&wrong, 1, __ATOMIC_RELAXED);
  }
  return NULL;
}

static void* spinner(void* a) {
  (void)a;
  while (!stop) sched_yield();
  return NULL;
}

/* every kernel thread's effective uid and gid are id */
static int tasks_have(unsigned id) {
  DIR* d = opendir("/proc/self/task");
  if (!d) return -1;
  int bad = 0, n = 0;
  struct dirent* e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[300], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%s/status", e->d_name);
    FILE* f = fopen(path, "r");
    if (!f) continue;  /* exited meanwhile */
    unsigned r, eff;
    while (fgets(line, sizeof line, f)) {
      if ((sscanf(line, "Uid: %u %u", &r, &eff) == 2 || sscanf(line, "Gid: %u %u", &r, &eff) == 2) &&
          eff != id) {
        fprintf(stderr, "task %s: %s", e->d_name, line);
        bad++;
      }
    }
    fclose(f);
    n++;
  }
  closedir(d);
  return bad ? -bad : n;
}

static void set_phase(int p) {
  pthread_mutex_lock(&mu);
  phase = p;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

int main(void) {
  if (geteuid() != 0) {
    printf("setxid: needs root, skipped\n");
    return 77;
  }
  pthread_t s[SLEEPERS], sp[SPINNERS];
  for (int i = 0; i < SLEEPERS; i++) CHECK(pthread_create(&s[i], NULL, sleeper, NULL) == 0, "create");
  for (int i = 0; i < SPINNERS; i++) CHECK(pthread_create(&sp[i], NULL, spinner, NULL) == 0, "create");
  usleep(20000);

  CHECK(setegid(NOBODY) == 0 && seteuid(NOBODY) == 0, "seteuid/setegid to %d", NOBODY);
  int n = tasks_have(NOBODY);
  CHECK(n > 0, "kernel threads with other effective ids after seteuid(%d): %d", NOBODY, -n);
  set_phase(1);
  usleep(20000);
  CHECK(seteuid(0) == 0 && setegid(0) == 0, "seteuid/setegid back to 0");
  n = tasks_have(0);
  CHECK(n > 0, "kernel threads with other effective ids after seteuid(0): %d", -n);
  set_phase(2);
  for (int i = 0; i < SLEEPERS; i++) pthread_join(s[i], NULL);
  stop = 1;
  for (int i = 0; i < SPINNERS; i++) pthread_join(sp[i], NULL);
  CHECK(wrong == 0, "%d thread views of the effective ids were wrong", wrong);
  printf("setxid: %d kernel threads, %d failures\n", n, failures);
  return failures ? 1 : 0;
}
