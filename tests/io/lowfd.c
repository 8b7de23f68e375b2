/* The application's lowest free descriptor stays its own: a thread makes
 * short blocking system calls (raw futex waits of 200 us on shared
 * memory, a call libgreen cannot know will block: under libgreen each is
 * a syscall section that sysmon watches, reading the waiting M's state
 * from /proc before it hands the P on), while another thread opens and
 * closes /dev/null 20,000 times and checks that open() returns the lowest
 * free number every time, as POSIX requires. A runtime that opens a file
 * of its own for each look takes that number now and then. A warm-up of
 * the same calls comes first, so the runtime's threads exist when the
 * counting starts.
 * Regression: sysmon opened /proc/self/task/TID/stat for each look
 * (224-347 of the 20,000 opens got another number; 4,000-12,000 before
 * libgreen kept its load sampler's file open).
 * Prints "lowfd: ok". */
#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "common.h"

static volatile int done;

static int* word;  /* MAP_SHARED: the futex call is not a private one */

static void* sleeper(void* a) {
  long n = (long)a;
  for (long i = 0; i < n && !done; i++) {
    struct timespec ts = {0, 200000};
    syscall(SYS_futex, word, FUTEX_WAIT, 0, &ts, NULL, 0);
  }
  return NULL;
}

/* The lowest free number: the smallest of many tries (a number the
 * runtime holds for a moment only makes a try larger). */
static int lowest_free(void) {
  int low = -1;
  for (int i = 0; i < 200; i++) {
    int fd = open("/dev/null", O_RDONLY);
    close(fd);
    if (low < 0 || fd < low) low = fd;
    usleep(100);
  }
  return low;
}

int main(void) {
  word = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  CHECK(word != MAP_FAILED, "mmap");
  pthread_t t;
  pthread_create(&t, NULL, sleeper, (void*)1000L);  /* warm-up: ~0.2 s of the same calls */
  pthread_join(t, NULL);
  int expect = lowest_free();
  pthread_create(&t, NULL, sleeper, (void*)100000L);
  int wrong = 0, first = -1;
  for (int i = 0; i < 20000; i++) {
    int fd = open("/dev/null", O_RDONLY);
    if (fd != expect && !wrong++) first = fd;
    if (fd >= 0) close(fd);
  }
  done = 1;
  pthread_join(t, NULL);
  CHECK(wrong == 0, "%d of 20000 opens did not get the lowest free number %d (first: %d)", wrong, expect, first);
  if (failures) return 1;
  printf("lowfd: ok\n");
  return 0;
}
