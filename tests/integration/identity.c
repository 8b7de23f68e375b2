/* errno, __thread and pthread_self() of each thread survive 1,000 yields
 * while other threads run. Prints how often a thread was seen on another
 * kernel thread (gettid changed): under libgreen with 2 Ps that must happen
 * (run.sh checks), natively never. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread long mine;
static long migrations, failures, seen;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void* run(void* arg) {
  long id = (long)arg, moved = 0, bad = 0;
  mine = id;
  errno = (int)id;
  pthread_t self = pthread_self();
  long tid = syscall(SYS_gettid);
  /* Under libgreen (UNTIL_MIGRATED=1, set by run.sh) keep going until some
   * thread was seen on another kernel thread: on a loaded machine the
   * second M may be scheduled late. Natively gettid never changes. */
  int until = getenv("UNTIL_MIGRATED") != NULL;
  time_t give_up = time(NULL) + 20;
  for (int i = 0; i < 1000 || (until && !__atomic_load_n(&seen, __ATOMIC_RELAXED) &&
                               time(NULL) < give_up); i++) {
    sched_yield();
    if (i % 100 == 99) usleep(50);  /* sleeping moves threads between Ms under libgreen */
    volatile long spin = 0;
    for (int k = 0; k < 1000; k++) spin += k;  /* some work between yields */
    bad += mine != id || errno != (int)id || !pthread_equal(self, pthread_self());
    long now = syscall(SYS_gettid);
    if (now != tid) {
      moved++;
      tid = now;
      __atomic_add_fetch(&seen, 1, __ATOMIC_RELAXED);
    }
  }
  pthread_mutex_lock(&mu);
  migrations += moved;
  failures += bad;
  pthread_mutex_unlock(&mu);
  return NULL;
}

int main(void) {
  pthread_t t[16];
  for (long i = 0; i < 16; i++) pthread_create(&t[i], NULL, run, (void*)(i + 1000));
  for (int i = 0; i < 16; i++) pthread_join(t[i], NULL);
  printf("identity: %ld wrong values after yields\nMIGRATIONS %ld\n", failures, migrations);
  return failures != 0;
}
