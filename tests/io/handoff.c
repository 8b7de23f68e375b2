/* With one P (GREEN_PROCS=1 under libgreen), threads blocked in waitpid,
 * flock and fsync must not stop another thread: a counter advances while
 * they are blocked. Afterwards the kernel thread count comes back down. */
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>

#include "common.h"

static volatile long counter;
static volatile int stop;

static void* count(void* arg) {
  (void)arg;
  while (!stop) {
    counter++;
    if ((counter & 1023) == 0) sched_yield();
  }
  return NULL;
}

static void* in_waitpid(void* arg) {
  (void)arg;
  pid_t c = fork();
  if (c == 0) { usleep(300000); _exit(0); }
  long before = counter;
  waitpid(c, NULL, 0);
  return (void*)(counter - before);
}

static char lockpath[64];
static void* in_flock(void* arg) {
  (void)arg;
  int fd = open(lockpath, O_RDWR);
  long before = counter;
  flock(fd, LOCK_EX);  /* held by main for 300 ms */
  long progressed = counter - before;
  flock(fd, LOCK_UN);
  close(fd);
  return (void*)progressed;
}

static void* in_fsync(void* arg) {
  (void)arg;
  char path[64];
  snprintf(path, sizeof path, "/tmp/green-handoff-%d.dat", getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  char buf[65536] = {0};
  for (int i = 0; i < 64; i++) write(fd, buf, sizeof buf);
  fsync(fd);
  close(fd);
  unlink(path);
  return NULL;
}

int main(void) {
  snprintf(lockpath, sizeof lockpath, "/tmp/green-handoff-%d.lock", getpid());
  int lk = open(lockpath, O_RDWR | O_CREAT, 0600);
  flock(lk, LOCK_EX);
  pthread_t counter_t, w, f, s;
  pthread_create(&counter_t, NULL, count, NULL);
  pthread_create(&w, NULL, in_waitpid, NULL);
  pthread_create(&f, NULL, in_flock, NULL);
  pthread_create(&s, NULL, in_fsync, NULL);
  usleep(300000);  /* a G sleeping: the others, incl. the counter, run meanwhile */
  flock(lk, LOCK_UN);
  void *pw, *pf;
  pthread_join(w, &pw);
  pthread_join(f, &pf);
  pthread_join(s, NULL);
  stop = 1;
  pthread_join(counter_t, NULL);
  CHECK((long)pw > 0, "counter did not advance while a thread was in waitpid");
  CHECK((long)pf > 0, "counter did not advance while a thread was in flock");
  int during = kernel_threads();
  double t0 = now_s();
  int after = during;
  while (now_s() - t0 < 5 && (after = kernel_threads()) > 3) usleep(100000);
  close(lk);
  unlink(lockpath);
  printf("handoff: %s\nTHREADS_AFTER %d\n", failures ? "FAILED" : "ok", after);
  return failures != 0;
}
