/* Crashes: each mode dies by SIGSEGV, natively and under libgreen; under
 * libgreen a stack overflow first names the thread and its stack size.
 *   small     a thread with a 64 KiB stack (pthread_attr_setstacksize)
 *             recurses without end
 *   default   a thread with the default stack size recurses without end
 *   main      main itself recurses without end
 *   null      a thread writes through a null pointer (no overflow message)
 *   handled   the program's own SIGSEGV handler (installed in main) catches
 *             a null write and exits 3: it wins over libgreen's, as natively
 *   chained   the program's handler calls the one it replaced, as crash
 *             reporters do: SIG_DFL, so it restores it and returns; the
 *             null write then kills the process by SIGSEGV
 *   query     prints "default" if SIGSEGV and SIGBUS have no handler
 *             (what sigaction reports), and exits 0 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile char* volatile nowhere;
static volatile int keep_going = 1; /* never cleared: the recursion has no end */

static __attribute__((noinline)) int recurse_forever(int depth) {
  volatile char frame[512];
  memset((char*)frame, depth, sizeof frame);
  if (!keep_going) return frame[0];
  return recurse_forever(depth + 1) + frame[depth % sizeof frame];
}

static void* overflow_fn(void* arg) {
  pthread_setname_np(pthread_self(), "deep-recursion");
  return (void*)(long)recurse_forever((int)(long)arg);
}

static void* null_write_fn(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "null-writer");
  *nowhere = 1;
  return NULL;
}

static void on_segv(int sig) {
  (void)sig;
  static const char msg[] = "app handler\n";
  if (write(1, msg, sizeof msg - 1) < 0) _exit(4);
  _exit(3);
}

static struct sigaction replaced;

static void chain(int sig, siginfo_t* info, void* uc) {
  static const char msg[] = "chained\n";
  if (write(1, msg, sizeof msg - 1) < 0) _exit(4);
  if (replaced.sa_handler == SIG_DFL) {
    signal(sig, SIG_DFL); /* returning repeats the fault, which now kills */
  } else if (replaced.sa_flags & SA_SIGINFO) {
    replaced.sa_sigaction(sig, info, uc);
  } else if (replaced.sa_handler != SIG_IGN) {
    replaced.sa_handler(sig);
  }
}

static int in_thread(void* (*fn)(void*), size_t stack) {
  pthread_attr_t a;
  pthread_t t;
  pthread_attr_init(&a);
  if (stack) pthread_attr_setstacksize(&a, stack);
  if (pthread_create(&t, &a, fn, NULL) != 0) return 1;
  pthread_join(t, NULL);
  return 0; /* not reached: the thread kills the process */
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "small")) return in_thread(overflow_fn, 64 << 10);
  if (!strcmp(mode, "default")) return in_thread(overflow_fn, 0);
  if (!strcmp(mode, "main")) return recurse_forever(0);
  if (!strcmp(mode, "null")) return in_thread(null_write_fn, 0);
  if (!strcmp(mode, "handled")) {
    signal(SIGSEGV, on_segv);
    return in_thread(null_write_fn, 0);
  }
  if (!strcmp(mode, "chained")) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = chain;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, &replaced);
    return in_thread(null_write_fn, 0);
  }
  if (!strcmp(mode, "query")) {
    struct sigaction segv, bus;
    sigaction(SIGSEGV, NULL, &segv);
    sigaction(SIGBUS, NULL, &bus);
    printf("%s\n", segv.sa_handler == SIG_DFL && bus.sa_handler == SIG_DFL ? "default" : "handler");
    return 0;
  }
  fprintf(stderr, "usage: overflow small|default|main|null|handled|chained|query\n");
  return 2;
}
