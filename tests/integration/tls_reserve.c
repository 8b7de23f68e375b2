/* tls_reserve: glibc's static TLS reserve for libraries dlopen'ed later,
 * with whatever size GLIBC_TUNABLES gives it (glibc.rtld.nns,
 * glibc.rtld.optional_static_tls), while threads exist.
 *
 * A library whose initial-exec TLS exceeds the reserve (libie_huge.so) must
 * fail to load with glibc's own error; one that fits (libie_tls.so) loads,
 * and every thread alive then writes its whole initial-exec block and finds
 * its own values, and its executable's TLS, intact after the others wrote
 * theirs. A runtime whose per-thread blocks did not cover glibc's whole
 * static TLS area (reserve included) would see one thread's writes land in
 * another's block. Exit 0 when all hold. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "../include/check.h"
#include "../include/sibling.h"

#define THREADS 200
#define CANARY 64

static __thread unsigned char canary[CANARY];
static void (*ie_fill)(int);
static int (*ie_holds)(int);
static pthread_barrier_t phase;

static void set_canary(long id) { memset(canary, (int)(id & 0x7f) | 0x80, sizeof canary); }
static int canary_holds(long id) {
  for (int i = 0; i < CANARY; i++)
    if (canary[i] != ((id & 0x7f) | 0x80)) return 0;
  return 1;
}

static void* worker(void* a) {
  long id = (long)a;
  set_canary(id);
  pthread_barrier_wait(&phase); /* main dlopens */
  pthread_barrier_wait(&phase);
  ie_fill((int)id);
  for (int i = 0; i < 3; i++) sched_yield();
  pthread_barrier_wait(&phase); /* every thread has written its block */
  CHECK(ie_holds((int)id), "thread %ld: its initial-exec block changed", id);
  CHECK(canary_holds(id), "thread %ld: its executable TLS changed", id);
  return NULL;
}

int main(int argc, char** argv) {
  char huge[PATH_MAX], fits[PATH_MAX];
  if (sibling_path(huge, sizeof huge, 1, argv, "libie_huge.so") ||
      sibling_path(fits, sizeof fits, 1, argv, "libie_tls.so"))
    return 2;
  (void)argc;
  pthread_t t[THREADS];
  pthread_barrier_init(&phase, NULL, THREADS + 1);
  for (long i = 0; i < THREADS; i++)
    CHECK(pthread_create(&t[i], NULL, worker, (void*)(i + 1)) == 0, "create %ld", i);
  pthread_barrier_wait(&phase);

  void* h = dlopen(huge, RTLD_NOW);
  const char* err = h ? "" : dlerror();
  CHECK(!h && strstr(err, "static TLS"), "dlopen of 4 KiB initial-exec TLS: %s",
        h ? "loaded" : err);
  h = dlopen(fits, RTLD_NOW);
  if (!h) {
    fprintf(stderr, "tls_reserve: dlopen %s: %s\n", fits, dlerror());
    return 2;
  }
  ie_fill = (void (*)(int))dlsym(h, "ie_fill");
  ie_holds = (int (*)(int))dlsym(h, "ie_holds");
  if (!ie_fill || !ie_holds) return 2;
  set_canary(0);
  ie_fill(0);
  pthread_barrier_wait(&phase);
  pthread_barrier_wait(&phase);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  CHECK(ie_holds(0) && canary_holds(0), "main thread's TLS changed");
  printf("tls_reserve: %d threads, %d failures\n", THREADS, failures);
  return failures ? 1 : 0;
}
