/* A program whose threads sit in different states until it reads a line
 * from stdin; then it releases them all and exits 0. Under libgreen with
 * GREEN_DUMP_SIGNAL set, run.sh sends the signal meanwhile and checks the
 * dump: every thread, by name, with what it waits for and a backtrace
 * naming the function below that made the call.
 *   mutex-waiter   pthread_mutex_lock of a mutex main holds
 *   cond-waiter    pthread_cond_wait
 *   sem-waiter     sem_wait
 *   sleeper        nanosleep (1 s at a time)
 *   pipe-reader    read of a pipe
 *   joiner         pthread_join of cond-waiter
 *   spinner        a busy loop (running, or runnable when preempted)
 *   main           read of stdin (a FIFO in run.sh)
 * Prints "READY" once all of them are (about to be) blocked.
 * With the argument "fork", main first forks: the child prints
 * "CHILD <pid>" and waits for its parent on a pipe, the parent waits for a
 * line on stdin, then releases the child and its own threads. */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t sem;
static int pipefd[2];
static volatile int done;
static pthread_barrier_t started;
static pthread_t cond_thread;

static __attribute__((noinline)) void* mutex_waiter_fn(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "mutex-waiter");
  pthread_barrier_wait(&started);
  pthread_mutex_lock(&held);
  pthread_mutex_unlock(&held);
  return NULL;
}

static __attribute__((noinline)) void* cond_waiter_fn(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "cond-waiter");
  pthread_mutex_lock(&cm);
  pthread_barrier_wait(&started);
  while (!done) pthread_cond_wait(&cv, &cm);
  pthread_mutex_unlock(&cm);
  return NULL;
}

static __attribute__((noinline)) void* sem_waiter_fn(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "sem-waiter");
  pthread_barrier_wait(&started);
  while (sem_wait(&sem) != 0) {
  }
  return NULL;
}

static __attribute__((noinline)) void* sleeper_fn(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "sleeper");
  pthread_barrier_wait(&started);
  while (!done) {
    struct timespec ts = {1, 0};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static __attribute__((noinline)) void* pipe_reader_fn(void* arg) {
  (void)arg;
  char c;
  pthread_setname_np(pthread_self(), "pipe-reader");
  pthread_barrier_wait(&started);
  ssize_t n = read(pipefd[0], &c, 1);
  return n == 1 ? NULL : arg;
}

static __attribute__((noinline)) void* spinner_fn(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "spinner");
  pthread_barrier_wait(&started);
  while (!done) {
  }
  return NULL;
}

static __attribute__((noinline)) void* joiner_fn(void* arg) {
  (void)arg;
  void* r = NULL;
  pthread_setname_np(pthread_self(), "joiner");
  pthread_barrier_wait(&started);
  pthread_join(cond_thread, &r);
  return r;
}

/* The child of "fork": one thread, waiting for its parent. */
static __attribute__((noinline)) int child(int fd) {
  char c;
  printf("CHILD %d\n", (int)getpid());
  fflush(stdout);
  return read(fd, &c, 1) == 1 ? 0 : 1;
}

int main(int argc, char** argv) {
  pthread_t t[6];
  char line[16];
  int release[2] = {-1, -1};
  pid_t pid = -1;
  if (argc > 1 && !strcmp(argv[1], "fork")) {
    if (pipe(release)) return 1;
    pid = fork();
    if (pid == 0) return child(release[0]);
  }
  sem_init(&sem, 0, 0);
  if (pipe(pipefd)) return 1;
  pthread_mutex_lock(&held);
  pthread_barrier_init(&started, NULL, 8);
  pthread_create(&cond_thread, NULL, cond_waiter_fn, NULL);
  pthread_create(&t[0], NULL, mutex_waiter_fn, NULL);
  pthread_create(&t[1], NULL, sem_waiter_fn, NULL);
  pthread_create(&t[2], NULL, sleeper_fn, NULL);
  pthread_create(&t[3], NULL, pipe_reader_fn, NULL);
  pthread_create(&t[4], NULL, joiner_fn, NULL);
  pthread_create(&t[5], NULL, spinner_fn, NULL);
  pthread_barrier_wait(&started);
  printf("READY\n");
  fflush(stdout);
  if (read(0, line, sizeof line) <= 0) return 1; /* not stdio: its read is libc-internal */
  pthread_mutex_lock(&cm);
  done = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&cm);
  pthread_mutex_unlock(&held);
  sem_post(&sem);
  if (write(pipefd[1], "x", 1) != 1) return 1;
  for (int i = 0; i < 6; i++) pthread_join(t[i], NULL);
  if (pid > 0) {
    int st;
    if (write(release[1], "x", 1) != 1 || waitpid(pid, &st, 0) != pid || st != 0) return 1;
  }
  printf("done\n");
  return 0;
}
