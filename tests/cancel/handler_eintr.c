/* A signal handler that interrupts a blocking call made as a cancellation
 * point (under libgreen: in the wake-signal stub, libgreen's own code)
 * runs before the call returns EINTR, as natively: the thread sees the
 * handler's flag set when it sees EINTR. The calls: waitpid, pause and a
 * FIFO open; the signal comes either as pthread_kill or as a raw tgkill of
 * the kernel thread the caller runs on (what a process signal the kernel
 * gives that thread looks like). Regression: the handler of a signal that
 * landed in the stub was deferred as if libgreen held a lock there, so
 * EINTR came back before it ran. The main thread blocks the signal, so
 * that it is for the blocked thread only. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "common.h"

static volatile sig_atomic_t flag;
static void on_sig(int sig) {
  (void)sig;
  flag = 1;
}

static pid_t child;
static char fifo[64];

enum { WAITPID, PAUSE, OPEN_FIFO, NCALLS };
static const char* names[] = {"waitpid", "pause", "open-fifo"};

static sem_t ready;
static int which, err, seen;
static volatile pid_t tid;

static void* blocker(void* arg) {
  (void)arg;
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  pthread_sigmask(SIG_UNBLOCK, &s, NULL);  /* only this thread takes it */
  tid = (pid_t)syscall(SYS_gettid);  /* the kernel thread it blocks on next */
  sem_post(&ready);
  int r = 0;
  switch (which) {
    case WAITPID: r = waitpid(child, NULL, 0); break;
    case PAUSE: r = pause(); break;
    case OPEN_FIFO: r = open(fifo, O_RDONLY); break;
  }
  err = r < 0 ? errno : 0;
  seen = flag;
  return NULL;
}

static void run(int call, int raw) {
  flag = 0;
  which = call;
  pthread_t t;
  pthread_create(&t, NULL, blocker, NULL);
  sem_wait(&ready);
  let_it_block();
  if (raw)
    syscall(SYS_tgkill, getpid(), tid, SIGUSR2);
  else
    pthread_kill(t, SIGUSR2);
  pthread_join(t, NULL);
  const char* how = raw ? "tgkill" : "pthread_kill";
  CHECK(err == EINTR, "%s %s: errno %d", how, names[call], err);
  CHECK(seen, "%s %s: EINTR before the handler ran", how, names[call]);
  printf("%s %s: %s\n", how, names[call], err == EINTR && seen ? "ok" : "FAIL");
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sig;  /* no SA_RESTART: the calls fail with EINTR */
  sigaction(SIGUSR2, &sa, NULL);
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &s, NULL);  /* inherited; each blocker unblocks it */
  snprintf(fifo, sizeof fifo, "/tmp/handler-eintr-%d", (int)getpid());
  unlink(fifo);
  if (mkfifo(fifo, 0600)) return 1;
  child = fork();
  if (child == 0)
    for (;;) pause();
  sem_init(&ready, 0, 0);
  for (int call = 0; call < NCALLS; call++) {
    run(call, 1);
    run(call, 0);
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  unlink(fifo);
  return failures != 0;
}
