/* tls_dlopen [LIB]: initial-exec and dynamic TLS of a library dlopen'ed
 * while threads exist (LIB: libie_tls.so next to this program).
 *
 * glibc gives a module dlopen'ed with initial-exec TLS an offset in the
 * static TLS reserve and copies its initial image into every thread that
 * exists at that moment; threads created later get it from the loader.
 * Checked for: threads alive across the dlopen, the calling thread, threads
 * created afterwards one after another (a runtime that reuses dead threads'
 * TLS must not hand a thread the previous owner's values), and concurrent
 * ones; each thread's value stays its own. The whole scenario runs first in
 * a child forked before the parent loads the library (the child's runtime
 * rebuilt after fork, its dead threads' TLS kept for reuse), then in the
 * parent. Exit 0 when all hold. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../include/check.h"
#include "../include/sibling.h"

#define OLD 16
#define SERIAL 3000
#define BATCH 64

static int (*ie_get)(void), (*gd_get)(void);
static void (*ie_set)(int), (*gd_set)(int);
static pthread_barrier_t loaded;

/* a thread's own view: fresh values first, then its own ones survive yields */
static void check_own(long id, const char* who) {
  CHECK(ie_get() == 42, "%s %ld: initial-exec TLS %d, expected 42", who, id, ie_get());
  CHECK(gd_get() == 7, "%s %ld: dynamic TLS %d, expected 7", who, id, gd_get());
  ie_set((int)id);
  gd_set((int)id + 1);
  for (int i = 0; i < 3; i++) sched_yield();
  usleep(100);
  CHECK(ie_get() == (int)id, "%s %ld: initial-exec TLS %d after yields", who, id, ie_get());
  CHECK(gd_get() == (int)id + 1, "%s %ld: dynamic TLS %d after yields", who, id, gd_get());
}

static void* old_thread(void* a) {
  pthread_barrier_wait(&loaded); /* before: the library is not loaded */
  pthread_barrier_wait(&loaded); /* after */
  check_own((long)a, "thread alive across dlopen");
  return NULL;
}

static void* new_thread(void* a) {
  check_own((long)a, "thread created after dlopen");
  return NULL;
}

static void* early(void* a) { return a; }

static int scenario(const char* lib) {
  pthread_t old[OLD];
  pthread_barrier_init(&loaded, NULL, OLD + 1);
  for (long i = 0; i < OLD; i++) CHECK(pthread_create(&old[i], NULL, old_thread, (void*)(1000 + i)) == 0, "create");
  pthread_barrier_wait(&loaded);

  void* h = dlopen(lib, RTLD_NOW);
  if (!h) {
    fprintf(stderr, "tls_dlopen: dlopen %s: %s\n", lib, dlerror());
    return 2;
  }
  ie_get = (int (*)(void))dlsym(h, "ie_get");
  ie_set = (void (*)(int))dlsym(h, "ie_set");
  gd_get = (int (*)(void))dlsym(h, "gd_get");
  gd_set = (void (*)(int))dlsym(h, "gd_set");
  if (!ie_get || !ie_set || !gd_get || !gd_set) return 2;
  check_own(1, "the dlopen caller");
  pthread_barrier_wait(&loaded);
  for (int i = 0; i < OLD; i++) pthread_join(old[i], NULL);

  for (long i = 0; i < SERIAL; i++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, new_thread, (void*)(10000 + i)) == 0, "create");
    pthread_join(t, NULL);
    if (failures > 20) break;
  }
  pthread_t b[BATCH];
  for (long i = 0; i < BATCH; i++) CHECK(pthread_create(&b[i], NULL, new_thread, (void*)(20000 + i)) == 0, "create");
  for (int i = 0; i < BATCH; i++) pthread_join(b[i], NULL);
  CHECK(ie_get() == 1 && gd_get() == 2, "the dlopen caller's own values changed: %d %d", ie_get(), gd_get());
  return failures ? 1 : 0;
}

int main(int argc, char** argv) {
  char lib[PATH_MAX];
  if (sibling_path(lib, sizeof lib, argc, argv, "libie_tls.so")) return 2;
  /* dead threads before the dlopen: a runtime may keep their TLS for reuse */
  for (long i = 0; i < 100; i++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, early, (void*)i) == 0, "early create");
    pthread_join(t, NULL);
  }
  pid_t pid = fork();
  CHECK(pid >= 0, "fork");
  if (pid == 0) {
    int r = scenario(lib);
    printf("tls_dlopen child: %d failures\n", failures);
    fflush(stdout);
    _exit(r);
  }
  int st = 0;
  CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the forked child's scenario: status %#x", st);
  if (WIFEXITED(st) && WEXITSTATUS(st) == 2) return 2;
  int r = scenario(lib);
  printf("tls_dlopen: %d failures\n", failures);
  return r == 2 ? 2 : failures ? 1 : 0;
}
