/* N threads block at once in flock on a lock main holds for 200 ms: each
 * one occupies an OS thread in the kernel (a syscall section under
 * libgreen). All must get the lock in turn afterwards. */
#include <fcntl.h>
#include <sys/file.h>

#include "common.h"

static char path[64];
static volatile long got;

static void* take(void* arg) {
  (void)arg;
  int fd = open(path, O_RDWR);
  flock(fd, LOCK_EX);
  __atomic_add_fetch(&got, 1, __ATOMIC_SEQ_CST);
  flock(fd, LOCK_UN);
  close(fd);
  return NULL;
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 64;
  snprintf(path, sizeof path, "/tmp/green-blocked-%d", getpid());
  int fd = open(path, O_RDWR | O_CREAT, 0600);
  flock(fd, LOCK_EX);
  pthread_t* t = calloc(n, sizeof *t);
  for (int i = 0; i < n; i++) pthread_create(&t[i], NULL, take, NULL);
  usleep(200000);
  flock(fd, LOCK_UN);
  for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
  close(fd);
  unlink(path);
  CHECK(got == n, "%ld of %d threads got the lock", got, n);
  printf("blocked %d: %s\n", n, failures ? "FAILED" : "ok");
  return failures != 0;
}
