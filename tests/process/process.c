/* process MODE: the process lifecycle from threads, for run.sh, which runs
 * every mode natively and under libgreen and checks exit statuses/output.
 *   fork      a non-main thread forks while 8 others run; the child has one
 *             thread, runs pthread_atfork handlers in POSIX order, creates
 *             and joins 16 threads, uses a mutex and condvar; exit 0 if ok
 *   exec      a non-main thread execs "/bin/echo exec-ok" while others run
 *   spawn     8 threads each posix_spawn "sh -c 'exit N'" and waitpid it;
 *             4 threads each system("exit N"); statuses checked
 *   exit      a non-main thread calls exit(7) while others run; atexit
 *             handler prints "atexit-ran" once
 *   _exit     a non-main thread calls _exit(9); no atexit output
 *   quick     quick_exit(5) from a thread; at_quick_exit handler runs
 *   abort     abort() from a thread: killed by SIGABRT
 *   segv      a thread dereferences NULL: killed by SIGSEGV
 *   daemon    daemon(1, 1), then the daemon writes "daemon-ok <pid>" to
 *             the file named by argv[2] from a new thread
 *   vfork     while a thread is blocked in read() on a socketpair, another
 *             vforks 50 children that, as shells do before exec, redirect
 *             stdout, close the socketpair and reset a signal's handler;
 *             the reader still gets its byte, the parent's handler still
 *             runs; prints "vfork-ok" */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "../include/kthreads.h"

extern char** environ;

#define CHECK(c)                                                              \
  do {                                                                        \
    if (!(c)) {                                                               \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #c); \
      _exit(1);                                                               \
    }                                                                         \
  } while (0)

static atomic_int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long shared_counter;

static void* busy(void* arg) {
  long kind = (long)arg;
  while (!atomic_load(&stop)) {
    if (kind % 3 == 0) {
      struct timespec d = {0, 1000000};
      nanosleep(&d, NULL);
    } else if (kind % 3 == 1) {
      pthread_mutex_lock(&mu);
      shared_counter++;
      pthread_cond_broadcast(&cv);
      pthread_mutex_unlock(&mu);
    } else {
      for (volatile int i = 0; i < 10000; i++) {
      }
      sched_yield();
    }
  }
  return NULL;
}

static pthread_t others[8];
static void start_others(void) {
  for (long i = 0; i < 8; i++) CHECK(pthread_create(&others[i], NULL, busy, (void*)i) == 0);
}
static void stop_others(void) {
  atomic_store(&stop, 1);
  for (int i = 0; i < 8; i++) CHECK(pthread_join(others[i], NULL) == 0);
}

/* atfork order: prepare handlers in reverse registration order, parent and
 * child handlers in registration order */
static char order[64];
static void add(char c) {
  size_t n = strlen(order);
  if (n < sizeof order - 1) order[n] = c;
}
static void p1(void) { add('a'); }
static void p2(void) { add('b'); }
static void c1(void) { add('1'); }
static void c2(void) { add('2'); }
static void q1(void) { add('x'); }
static void q2(void) { add('y'); }

static void* square(void* arg) { return (void*)((long)arg * (long)arg); }

static void* forker(void* arg) {
  (void)arg;
  CHECK(pthread_atfork(p1, q1, c1) == 0);
  CHECK(pthread_atfork(p2, q2, c2) == 0);
  order[0] = 0;
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    if (strcmp(order, "ba12") != 0) {
      fprintf(stderr, "child: atfork order %s, expected ba12\n", order);
      _exit(2);
    }
    if (kernel_threads() != 1) {
      fprintf(stderr, "child: %d kernel threads right after fork\n", kernel_threads());
      _exit(3);
    }
    /* the child can use the mutex the others were hammering (POSIX leaves
     * it to atfork handlers; here it was unlocked at fork time or the
     * runtime made it consistent) and create threads again */
    pthread_t t[16];
    for (long i = 0; i < 16; i++)
      if (pthread_create(&t[i], NULL, square, (void*)i)) _exit(4);
    for (long i = 0; i < 16; i++) {
      void* r;
      if (pthread_join(t[i], &r) || (long)r != i * i) _exit(5);
    }
    pthread_cond_t c2v = PTHREAD_COND_INITIALIZER;
    pthread_mutex_t m2 = PTHREAD_MUTEX_INITIALIZER;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += 10000000;
    if (ts.tv_nsec >= 1000000000) ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_mutex_lock(&m2);
    if (pthread_cond_timedwait(&c2v, &m2, &ts) != ETIMEDOUT) _exit(6);
    pthread_mutex_unlock(&m2);
    _exit(0);
  }
  if (strcmp(order, "baxy") != 0) {
    fprintf(stderr, "parent: atfork order %s, expected baxy\n", order);
    return (void*)1;
  }
  int st;
  CHECK(waitpid(pid, &st, 0) == pid);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "fork child status %#x\n", st);
    return (void*)1;
  }
  return NULL;
}

static void* execer(void* arg) {
  (void)arg;
  char* argv[] = {"/bin/echo", "exec-ok", NULL};
  execv(argv[0], argv);
  perror("execv");
  _exit(1);
}

static void* spawner(void* arg) {
  long n = (long)arg;
  char code[32];
  snprintf(code, sizeof code, "exit %ld", n);
  for (int k = 0; k < 5; k++) {
    pid_t pid;
    char* argv[] = {"/bin/sh", "-c", code, NULL};
    if (posix_spawn(&pid, argv[0], NULL, NULL, argv, environ) != 0) return (void*)1;
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != n) return (void*)1;
  }
  return NULL;
}

static void* systemer(void* arg) {
  long n = (long)arg;
  char cmd[32];
  snprintf(cmd, sizeof cmd, "exit %ld", n);
  int st = system(cmd);
  return (void*)(long)(!WIFEXITED(st) || WEXITSTATUS(st) != n);
}

static void ran_atexit(void) { printf("atexit-ran\n"); }
static void ran_quick(void) { printf("at_quick_exit-ran\n"); fflush(stdout); }

static void* call_exit(void* arg) {
  long code = (long)arg;
  struct timespec d = {0, 20000000};
  nanosleep(&d, NULL);
  if (code == 7) exit(7);
  if (code == 9) _exit(9);
  if (code == 5) quick_exit(5);
  if (code == 6) abort();
  if (code == 11) *(volatile int*)(long)(code - 11) = 1;
  return NULL;
}

static const char* daemon_file;
static void* daemon_writer(void* arg) {
  (void)arg;
  FILE* f = fopen(daemon_file, "w");
  if (!f) return (void*)1;
  fprintf(f, "daemon-ok %d\n", (int)getpid());
  fclose(f);
  return NULL;
}

static int vsv[2];
static volatile sig_atomic_t usr1_seen;
static void on_usr1(int sig) { (void)sig; usr1_seen = 1; }
static void* vreader(void* arg) {
  char c = 0;
  ssize_t n = read(vsv[0], &c, 1);
  *(char*)arg = n == 1 ? c : '?';
  return NULL;
}
/* the child never returns from here: it execs or _exits */
static pid_t vfork_true(void) {
  pid_t pid = vfork();
  if (pid == 0) {
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1);
    close(fd);
    close(vsv[0]);
    close(vsv[1]);
    signal(SIGUSR1, SIG_DFL);
    execl("/bin/true", "true", (char*)NULL);
    _exit(127);
  }
  return pid;
}
static void* vforker(void* arg) {
  (void)arg;
  for (int i = 0; i < 50; i++) {
    pid_t pid = vfork_true();
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return (void*)1;
  }
  return NULL;
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_t t;
  void* r;
  if (!strcmp(mode, "fork")) {
    start_others();
    CHECK(pthread_create(&t, NULL, forker, NULL) == 0);
    CHECK(pthread_join(t, &r) == 0 && r == NULL);
    stop_others();
    printf("fork-ok\n");
    return 0;
  }
  if (!strcmp(mode, "exec")) {
    start_others();
    CHECK(pthread_create(&t, NULL, execer, NULL) == 0);
    pthread_join(t, NULL);
    return 1; /* not reached: exec replaced the process */
  }
  if (!strcmp(mode, "spawn")) {
    pthread_t s[12];
    for (long i = 0; i < 8; i++) CHECK(pthread_create(&s[i], NULL, spawner, (void*)(i + 1)) == 0);
    for (long i = 8; i < 12; i++) CHECK(pthread_create(&s[i], NULL, systemer, (void*)(i + 1)) == 0);
    for (int i = 0; i < 12; i++) CHECK(pthread_join(s[i], &r) == 0 && r == NULL);
    printf("spawn-ok\n");
    return 0;
  }
  if (!strcmp(mode, "vfork")) {
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, vsv) == 0);
    CHECK(signal(SIGUSR1, on_usr1) != SIG_ERR);
    char got = 0;
    pthread_t rd;
    CHECK(pthread_create(&rd, NULL, vreader, &got) == 0);
    struct timespec d = {0, 20000000};
    nanosleep(&d, NULL); /* the reader is blocked in read() */
    CHECK(pthread_create(&t, NULL, vforker, NULL) == 0);
    CHECK(pthread_join(t, &r) == 0 && r == NULL);
    CHECK(write(vsv[1], "x", 1) == 1);
    CHECK(pthread_join(rd, NULL) == 0);
    if (got != 'x') fprintf(stderr, "the blocked reader got '%c'\n", got);
    CHECK(got == 'x');
    raise(SIGUSR1);
    CHECK(usr1_seen);
    printf("vfork-ok\n");
    return 0;
  }
  if (!strcmp(mode, "daemon")) {
    CHECK(argc > 2);
    daemon_file = argv[2];
    CHECK(daemon(1, 1) == 0);
    CHECK(pthread_create(&t, NULL, daemon_writer, NULL) == 0);
    CHECK(pthread_join(t, &r) == 0 && r == NULL);
    return 0;
  }
  long code = !strcmp(mode, "exit") ? 7 : !strcmp(mode, "_exit") ? 9 : !strcmp(mode, "quick") ? 5
            : !strcmp(mode, "abort") ? 6 : !strcmp(mode, "segv") ? 11 : -1;
  if (code < 0) {
    fprintf(stderr, "usage: process fork|exec|spawn|vfork|exit|_exit|quick|abort|segv|daemon FILE\n");
    return 2;
  }
  atexit(ran_atexit);
  at_quick_exit(ran_quick);
  start_others();
  CHECK(pthread_create(&t, NULL, call_exit, (void*)code) == 0);
  pthread_join(t, NULL);
  for (;;) pause(); /* the thread ends the process */
}
