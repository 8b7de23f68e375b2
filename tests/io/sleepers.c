/* N threads each sleep 1 s at once, mixing sleep, usleep, nanosleep,
 * clock_nanosleep (relative and absolute) and the poll/select sleep idioms.
 * Checks no sleep returned early; prints wall time and peak thread count. */
#include <poll.h>
#include <sys/select.h>

#include "common.h"

static void* sleeper(void* arg) {
  long i = (long)arg;
  double t0 = now_s();
  switch (i % 6) {
    case 0: sleep(1); break;
    case 1: usleep(1000000); break;
    case 2: { struct timespec ts = {1, 0}; nanosleep(&ts, NULL); break; }
    case 3: { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); ts.tv_sec += 1;
              clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL); break; }
    case 4: poll(NULL, 0, 1000); break;
    case 5: { struct timeval tv = {1, 0}; select(0, NULL, NULL, NULL, &tv); break; }
  }
  return (void*)(long)(now_s() - t0 < 0.999);
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10000;
  monitor_start();
  double t0 = now_s();
  pthread_t* t = calloc(n, sizeof *t);
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 << 10);
  int made = 0;
  for (long i = 0; i < n; i++, made++)
    if (pthread_create(&t[i], &a, sleeper, (void*)i)) break;
  long early = 0;
  for (int i = 0; i < made; i++) {
    void* r;
    pthread_join(t[i], &r);
    early += r != NULL;
  }
  double wall = now_s() - t0;
  int peak = monitor_end();
  CHECK(made == n, "only %d sleeper threads could be created", made);
  CHECK(early == 0, "%ld sleeps returned early", early);
  printf("sleepers %d: wall %.3f s %s\nPEAK_THREADS %d\n", made, wall, failures ? "FAILED" : "ok", peak);
  return failures != 0;
}
