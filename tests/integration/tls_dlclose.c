/* tls_dlclose [LIB]: threads keep being created and joined after a library
 * with TLS (LIB: libie_tls.so next to this program) was dlopen'ed, used and
 * dlclose'd. A runtime that reuses dead threads' TLS blocks must not copy
 * the unloaded library's TLS image into them (it is unmapped). Exit 0 when
 * every thread ran and the library's TLS kept what the caller stored. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "../include/check.h"
#include "../include/sibling.h"

#define ROUNDS 2100 /* more than one look of a runtime that checks every 1,024 reuses */

static long ran;
static void* nop(void* a) {
  __atomic_add_fetch(&ran, 1, __ATOMIC_RELAXED);
  return a;
}

static void create_join(int n) {
  for (int i = 0; i < n; i++) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, nop, NULL) == 0, "create %d", i);
    pthread_join(t, NULL);
  }
}

int main(int argc, char** argv) {
  char lib[PATH_MAX];
  if (sibling_path(lib, sizeof lib, argc, argv, "libie_tls.so")) return 2;
  void* h = dlopen(lib, RTLD_NOW);
  if (!h) {
    fprintf(stderr, "tls_dlclose: dlopen %s: %s\n", lib, dlerror());
    return 2;
  }
  int (*gd_get)(void) = (int (*)(void))dlsym(h, "gd_get");
  void (*gd_set)(int) = (void (*)(int))dlsym(h, "gd_set");
  if (!gd_get || !gd_set) return 2;
  gd_set(5); /* the first access also brings this thread's DTV up to date */
  CHECK(gd_get() == 5, "dynamic TLS of the dlopen caller: %d", gd_get());
  create_join(ROUNDS);
  CHECK(dlclose(h) == 0, "dlclose: %s", dlerror());
  create_join(ROUNDS);
  CHECK(ran == 2 * ROUNDS, "%ld threads ran, expected %d", ran, 2 * ROUNDS);
  printf("tls_dlclose: %ld threads, %d failures\n", ran, failures);
  return failures ? 1 : 0;
}
