/* eintr: a signal handler interrupts a thread blocked in a call, as Linux
 * does: EINTR without SA_RESTART, the call restarted with it, and never
 * restarted for the calls Linux never restarts (nanosleep, sleep, poll,
 * select). Process signals (alarm) interrupt the main thread blocked in
 * read/accept/nanosleep/sleep/poll/select while other threads sleep;
 * pthread_kill interrupts exactly the thread it names (read, nanosleep). */
#include <errno.h>
#include <poll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "common.h"

static atomic_int handled;
static pthread_t handled_on;
static void on_sig(int sig) {
  (void)sig;
  handled_on = pthread_self();
  atomic_fetch_add(&handled, 1);
}

static atomic_int stop;
static void* background(void* arg) {
  (void)arg;
  while (!atomic_load(&stop)) sleep_ms(20);
  return NULL;
}

static void arm_alarm_ms(int ms) {
  struct itimerval it = {{0, 0}, {ms / 1000, (ms % 1000) * 1000}};
  CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
}

struct late_write {
  int fd, ms;
};
static void* write_later(void* arg) {
  struct late_write* w = arg;
  sleep_ms(w->ms);
  CHECK(write(w->fd, "x", 1) == 1);
  return NULL;
}

struct blocked_read {
  int fd;
  ssize_t r;
  int err;
  atomic_int started;
};
static void* reader(void* arg) {
  struct blocked_read* b = arg;
  char c;
  atomic_store(&b->started, 1);
  b->r = read(b->fd, &c, 1);
  b->err = errno;
  return NULL;
}

static void* napper(void* arg) {
  struct blocked_read* b = arg;
  atomic_store(&b->started, 1);
  struct timespec d = {10, 0}, rem = {0, 0};
  b->r = nanosleep(&d, &rem);
  b->err = errno;
  return NULL;
}

int main(void) {
  pthread_t bg[2];
  for (int i = 0; i < 2; i++) CHECK(pthread_create(&bg[i], NULL, background, NULL) == 0);
  int p[2];
  char c;
  CHECK(pipe(p) == 0);

  /* 1. read on an empty pipe, no SA_RESTART: EINTR */
  on(SIGALRM, on_sig, 0);
  arm_alarm_ms(100);
  errno = 0;
  CHECK(read(p[0], &c, 1) == -1 && errno == EINTR);
  CHECK(atomic_load(&handled) == 1);

  /* 2. the same with SA_RESTART: the read restarts and gets the byte that
   * a thread writes after the signal */
  on(SIGALRM, on_sig, SA_RESTART);
  struct late_write lw = {p[1], 400};
  pthread_t w;
  CHECK(pthread_create(&w, NULL, write_later, &lw) == 0);
  arm_alarm_ms(100);
  CHECK(read(p[0], &c, 1) == 1 && c == 'x');
  CHECK(atomic_load(&handled) == 2);
  CHECK(pthread_join(w, NULL) == 0);

  /* 3. nanosleep, sleep, poll, select: EINTR even with SA_RESTART */
  struct timespec d = {5, 0}, rem = {0, 0};
  arm_alarm_ms(100);
  CHECK(nanosleep(&d, &rem) == -1 && errno == EINTR);
  CHECK(rem.tv_sec >= 3 && rem.tv_sec <= 5);
  CHECK(atomic_load(&handled) == 3);
  arm_alarm_ms(100);
  unsigned left = sleep(5);
  CHECK(left >= 4 && left <= 5);
  CHECK(atomic_load(&handled) == 4);
  struct pollfd pf = {p[0], POLLIN, 0};
  arm_alarm_ms(100);
  CHECK(poll(&pf, 1, 5000) == -1 && errno == EINTR);
  arm_alarm_ms(100);
  CHECK(poll(NULL, 0, 5000) == -1 && errno == EINTR);
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(p[0], &rs);
  struct timeval tv = {5, 0};
  arm_alarm_ms(100);
  CHECK(select(p[0] + 1, &rs, NULL, NULL, &tv) == -1 && errno == EINTR);
  CHECK(atomic_load(&handled) == 7);

  /* 4. accept on a listening socket, no SA_RESTART: EINTR */
  on(SIGALRM, on_sig, 0);
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(ls >= 0 && bind(ls, (struct sockaddr*)&a, sizeof a) == 0 && listen(ls, 4) == 0);
  arm_alarm_ms(100);
  CHECK(accept(ls, NULL, NULL) == -1 && errno == EINTR);
  CHECK(atomic_load(&handled) == 8);
  close(ls);

  /* 5. pthread_kill interrupts the thread it names, and only that one */
  on(SIGUSR1, on_sig, 0);
  struct blocked_read br = {p[0], 0, 0, 0}, nap = {-1, 0, 0, 0};
  pthread_t rt, nt;
  CHECK(pthread_create(&rt, NULL, reader, &br) == 0);
  CHECK(pthread_create(&nt, NULL, napper, &nap) == 0);
  while (!atomic_load(&br.started) || !atomic_load(&nap.started)) sleep_ms(1);
  sleep_ms(100); /* both are blocked now */
  CHECK(pthread_kill(rt, SIGUSR1) == 0);
  CHECK(pthread_join(rt, NULL) == 0);
  CHECK(br.r == -1 && br.err == EINTR);
  CHECK(atomic_load(&handled) == 9 && pthread_equal(handled_on, rt));
  CHECK(pthread_kill(nt, SIGUSR1) == 0);
  CHECK(pthread_join(nt, NULL) == 0);
  CHECK(nap.r == -1 && nap.err == EINTR);
  CHECK(atomic_load(&handled) == 10 && pthread_equal(handled_on, nt));

  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) CHECK(pthread_join(bg[i], NULL) == 0);
  printf("eintr: ok (%d signals handled)\n", atomic_load(&handled));
  return 0;
}
