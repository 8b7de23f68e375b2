/* I/O readiness while every processor is busy: N threads (N = GREEN_PROCS,
 * default 2) spin on the CPU without a system call until a flag is set; a
 * reader blocks in read() on a pipe and on a socket; a child process
 * writes to both after 100 ms, and the reader sets the flag. Under
 * libgreen no M is idle to wait in epoll_wait, so the readiness must be
 * harvested by the busy Ms or by sysmon, and the reader must get a P
 * (preemption). Natively trivial. A lost readiness hangs: alarm() ends
 * the program with a message. Prints "busyio: ok". */
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "common.h"

static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "FAIL busyio: the reader never saw the data (readiness lost while all Ps were busy)\n";
  write(2, msg, sizeof msg - 1);
  _exit(1);
}

static volatile int stop;
static void* spinner(void* a) {
  (void)a;
  unsigned long n = 0;
  while (!stop) n++;
  return (void*)n;
}

static int pfd[2], sv[2];
static void* reader(void* a) {
  (void)a;
  char c = 0, d = 0;
  CHECK(read(pfd[0], &c, 1) == 1 && c == 'p', "pipe read");
  CHECK(read(sv[0], &d, 1) == 1 && d == 's', "socket read");
  stop = 1;
  return NULL;
}

int main(void) {
  signal(SIGALRM, on_alarm);
  const char* e = getenv("GREEN_PROCS");
  int n = e && atoi(e) > 0 ? atoi(e) : 2;
  for (int round = 0; round < 5; round++) {
    stop = 0;
    CHECK(pipe(pfd) == 0 && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "pipe/socketpair");
    pthread_t r, s[64];
    pthread_create(&r, NULL, reader, NULL);
    usleep(20000);  /* the reader waits first, then the spinners take every P */
    for (int i = 0; i < n && i < 64; i++) pthread_create(&s[i], NULL, spinner, NULL);
    pid_t pid = fork();
    if (pid == 0) {
      usleep(100000);
      if (write(pfd[1], "p", 1) != 1 || write(sv[1], "s", 1) != 1) _exit(1);
      _exit(0);
    }
    alarm(30);
    pthread_join(r, NULL);
    alarm(0);
    for (int i = 0; i < n && i < 64; i++) pthread_join(s[i], NULL);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "writer child");
    close(pfd[0]);
    close(pfd[1]);
    close(sv[0]);
    close(sv[1]);
  }
  if (failures) return 1;
  printf("busyio: ok\n");
  return 0;
}
