/* idle_cpu: a program whose threads only sleep must not burn CPU. Four
 * threads sleep in 100 ms steps for 1 s while main sleeps; the process's
 * CPU time (getrusage, user + system) must stay far below the wall time.
 * (A runtime that spins while a timer is merely pending burns a core.) */
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

static void* nap(void* arg) {
  (void)arg;
  for (int i = 0; i < 10; i++) {
    struct timespec d = {0, 100 * 1000000};
    nanosleep(&d, NULL);
  }
  return NULL;
}

int main(void) {
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, nap, NULL);
  struct timespec d = {1, 0};
  nanosleep(&d, NULL);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  printf("idle_cpu: %.3f s of CPU for ~1 s of sleeping threads\n", cpu);
  if (cpu > 0.25) {
    fprintf(stderr, "idle_cpu: FAILED: sleeping threads burnt %.3f s of CPU\n", cpu);
    return 1;
  }
  return 0;
}
