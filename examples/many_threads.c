/* many_threads [N]: keeps N threads alive at once. Each thread reports in
 * and waits on a condition variable until main, having seen all N arrive
 * (and counted the kernel's threads), lets them go; each returns its index
 * doubled;
 * main checks every result. Natively N is bounded by kernel.pid_max: when
 * pthread_create fails, say how far we got and exit 2. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_here = PTHREAD_COND_INITIALIZER;
static pthread_cond_t go_cv = PTHREAD_COND_INITIALIZER;
static long arrived, target;
static int go;

static void* worker(void* arg) {
  pthread_mutex_lock(&mu);
  if (++arrived == target) pthread_cond_signal(&all_here);
  while (!go) pthread_cond_wait(&go_cv, &mu);
  pthread_mutex_unlock(&mu);
  return (void*)((long)arg * 2);
}

static int kernel_threads(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  int n = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "Threads:", 8)) n = atoi(line + 8);
  if (f) fclose(f);
  return n;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 100000;
  pthread_t* t = n > 0 ? malloc(sizeof(pthread_t) * n) : NULL;
  if (!t) {
    fprintf(stderr, "usage: many_threads [N>0] (%ld threads: %s)\n", n, n > 0 ? strerror(errno) : "bad N");
    return 1;
  }
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* A modest stack, so that natively the thread limit is hit before memory. */
  pthread_attr_setstacksize(&attr, 64 << 10);
  target = n;
  for (long i = 0; i < n; i++) {
    int err = pthread_create(&t[i], &attr, worker, (void*)i);
    if (err) {
      fprintf(stderr, "many_threads: pthread_create failed after %ld threads: %s\n", i, strerror(err));
      _exit(2);  /* the created threads wait forever: leave without them */
    }
  }
  pthread_mutex_lock(&mu);
  while (arrived < target) pthread_cond_wait(&all_here, &mu);
  int kthreads = kernel_threads();  /* every one of the N is alive now */
  go = 1;
  pthread_cond_broadcast(&go_cv);
  pthread_mutex_unlock(&mu);
  long bad = 0;
  for (long i = 0; i < n; i++) {
    void* r;
    int err = pthread_join(t[i], &r);
    if (err || (long)r != i * 2) {
      if (bad++ < 5) fprintf(stderr, "many_threads: thread %ld: join %s, result %ld\n", i, strerror(err), (long)r);
    }
  }
  printf("many_threads: %ld threads alive at once, %ld wrong results; kernel threads while alive: %d\n",
         n, bad, kthreads);
  return bad != 0;
}
