/* handler_section: a signal handler that makes blocking calls (pread,
 * nanosleep, write) runs while its thread is itself blocked in a call that
 * cannot be made asynchronous (waitpid). The child is killed by the handler
 * on its fifth run, so waitpid (restarted by SA_RESTART) returns only after
 * five handler runs, each of which read the bytes it expected. */
#include <fcntl.h>
#include <sys/wait.h>

#include "common.h"

static volatile pid_t child;
static volatile int runs, bad;
static int zero_fd, null_fd;

static void on_alrm(int sig) {
  (void)sig;
  char buf[64];
  memset(buf, 1, sizeof buf);
  if (pread(zero_fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf || buf[0] || buf[63]) bad++;
  struct timespec d = {0, 1000000};
  nanosleep(&d, NULL);
  if (write(null_fd, buf, sizeof buf) != (ssize_t)sizeof buf) bad++;
  if (++runs == 5) kill(child, SIGTERM);
}

int main(void) {
  zero_fd = open("/dev/zero", O_RDONLY);
  null_fd = open("/dev/null", O_WRONLY);
  CHECK(zero_fd >= 0 && null_fd >= 0);
  child = fork();
  CHECK(child >= 0);
  if (child == 0) {
    for (;;) pause();
  }
  on(SIGALRM, on_alrm, SA_RESTART);
  struct itimerval it = {{0, 20000}, {0, 20000}};
  CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
  int st;
  pid_t r;
  while ((r = waitpid(child, &st, 0)) < 0) CHECK(errno == EINTR);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, NULL);
  CHECK(r == child && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
  CHECK(runs >= 5 && bad == 0);
  printf("handler_section: ok (%d handler runs during waitpid)\n", runs);
  return 0;
}
