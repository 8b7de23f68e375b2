/* Programs in which every thread but one waits on another for a while, and
 * that one is blocked for a long time in the kernel or on something from
 * outside; none is deadlocked, and none may be reported as such. Each mode
 * exits 0 after about DELAY_MS.
 *   sleep     main sleeps, then signals the condvar the others wait on
 *   read      main reads a pipe that a child process writes after a while
 *   waitpid   main waits for a child that exits after a while
 *   join      main joins a thread that sleeps holding the mutex the others want
 *   signal    main waits in sem_wait; a child process sends SIGUSR1, whose
 *             handler posts the semaphore
 *   foreign   main waits in sem_wait; a thread that a library made before
 *             main (libearly.so, see early.c) posts it */
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DELAY_MS 1500
#define WAITERS 4

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;
static sem_t posted;

static void pause_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

static void* wait_for_go(void* arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  while (!go) pthread_cond_wait(&cv, &m);
  pthread_mutex_unlock(&m);
  return NULL;
}

static void release_waiters(pthread_t* w) {
  pthread_mutex_lock(&m);
  go = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&m);
  for (int i = 0; i < WAITERS; i++) pthread_join(w[i], NULL);
}

static void start_waiters(pthread_t* w) {
  for (int i = 0; i < WAITERS; i++) pthread_create(&w[i], NULL, wait_for_go, NULL);
}

static void* sleep_holding_mutex(void* arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  pause_ms(DELAY_MS);
  go = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&m);
  return NULL;
}

static void on_usr1(int sig) {
  (void)sig;
  sem_post(&posted);
}

static pid_t child_after_delay(int fd) {
  pid_t pid = fork();
  if (pid == 0) {
    pause_ms(DELAY_MS);
    if (fd >= 0 && write(fd, "x", 1) != 1) _exit(1);
    if (fd == -2) kill(getppid(), SIGUSR1);
    _exit(0);
  }
  return pid;
}

extern void early_post_after(sem_t* s, int ms) __attribute__((weak));

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  pthread_t w[WAITERS];
  if (!strcmp(mode, "sleep")) {
    start_waiters(w);
    pause_ms(DELAY_MS);
    release_waiters(w);
  } else if (!strcmp(mode, "read")) {
    int p[2];
    char c;
    if (pipe(p)) return 1;
    start_waiters(w);
    pid_t pid = child_after_delay(p[1]);
    if (read(p[0], &c, 1) != 1) return 1;
    waitpid(pid, NULL, 0);
    release_waiters(w);
  } else if (!strcmp(mode, "waitpid")) {
    start_waiters(w);
    pid_t pid = child_after_delay(-1);
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) return 1;
    release_waiters(w);
  } else if (!strcmp(mode, "join")) {
    pthread_t s;
    pthread_create(&s, NULL, sleep_holding_mutex, NULL);
    pause_ms(50); /* let it take the mutex first (not needed for correctness) */
    start_waiters(w);
    pthread_join(s, NULL);
    for (int i = 0; i < WAITERS; i++) pthread_join(w[i], NULL);
  } else if (!strcmp(mode, "signal")) {
    sem_init(&posted, 0, 0);
    signal(SIGUSR1, on_usr1);
    start_waiters(w);
    pid_t pid = child_after_delay(-2);
    while (sem_wait(&posted) != 0) {
    }
    waitpid(pid, NULL, 0);
    release_waiters(w);
  } else if (!strcmp(mode, "foreign")) {
    if (!early_post_after) {
      fprintf(stderr, "slow foreign: link with libearly.so\n");
      return 2;
    }
    sem_init(&posted, 0, 0);
    start_waiters(w);
    early_post_after(&posted, DELAY_MS);
    while (sem_wait(&posted) != 0) {
    }
    release_waiters(w);
  } else {
    fprintf(stderr, "usage: slow sleep|read|waitpid|join|signal|foreign\n");
    return 2;
  }
  printf("done\n");
  return 0;
}
