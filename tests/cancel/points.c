/* Every cancellation point libgreen handles, two ways each:
 *   blocked: the thread waits in the call when pthread_cancel comes;
 *   entry:   the cancellation is already pending (requested while the
 *            thread had cancellation disabled) and the call would not
 *            block (data ready, a zero timeout, ...): it must act at entry.
 * Either way the thread must end with PTHREAD_CANCELED, its cleanup handler
 * must have run once, and the call must not have returned. Plain pthreads:
 * run natively and under libgreen. Usage: points [name-substring] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <threads.h>

#include "common.h"

struct ctx;
struct point {
  const char* name;
  void (*setup)(struct ctx*);  /* may be NULL */
  void (*call)(struct ctx*);   /* the cancellation point; c->ready: it would not block */
  int modes;                   /* BLOCKED, ENTRY */
  int locks;                   /* the call wants c->mu held (condition waits) */
};
enum { BLOCKED = 1, ENTRY = 2 };

struct ctx {
  const struct point* pt;
  int ready;
  sem_t started, go;
  int p[2], sv[2], udp, lsock, csock, ep, fd, msq;
  struct sockaddr_in addr;
  pid_t child;
  char fifo[64], file[64];
  sem_t sem, hold;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  mtx_t cmu;
  cnd_t ccv;
  pthread_t other;
  volatile int cleaned, returned, unlocked, enabled;
};

/* ---- helpers ---- */
static void fill_pipe(int w) {  /* until the pipe is full, leaving the fd blocking */
  int fl = fcntl(w, F_GETFL);
  fcntl(w, F_SETFL, fl | O_NONBLOCK);
  static char buf[65536];
  while (write(w, buf, sizeof buf) > 0) {
  }
  fcntl(w, F_SETFL, fl);
}
static void fill_socket(int s) {
  static char buf[65536];
  while (send(s, buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
}
static int tcp_listener(int backlog, struct sockaddr_in* addr) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  memset(addr, 0, sizeof *addr);
  addr->sin_family = AF_INET;
  addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof *addr;
  if (bind(s, (struct sockaddr*)addr, len) || listen(s, backlog) ||
      getsockname(s, (struct sockaddr*)addr, &len))
    perror("listener");
  return s;
}
static int nb_connect(const struct sockaddr_in* a) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  connect(s, (const struct sockaddr*)a, sizeof *a);
  return s;
}

/* ---- setups ---- */
static void s_pipe(struct ctx* c) {
  if (pipe(c->p)) perror("pipe");
  if (c->ready) (void)!write(c->p[1], "x", 1);
}
static void s_full_pipe(struct ctx* c) {
  if (pipe(c->p)) perror("pipe");
  if (!c->ready) fill_pipe(c->p[1]);
}
static void s_pair(struct ctx* c) {
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, c->sv)) perror("socketpair");
  if (c->ready) (void)!write(c->sv[1], "x", 1);
}
static void s_full_pair(struct ctx* c) {
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, c->sv)) perror("socketpair");
  if (!c->ready) fill_socket(c->sv[0]);
}
static void s_udp(struct ctx* c) {
  c->udp = socket(AF_INET, SOCK_DGRAM, 0);
  memset(&c->addr, 0, sizeof c->addr);
  c->addr.sin_family = AF_INET;
  c->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof c->addr;
  bind(c->udp, (struct sockaddr*)&c->addr, len);
  getsockname(c->udp, (struct sockaddr*)&c->addr, &len);
  if (c->ready) sendto(c->udp, "x", 1, 0, (struct sockaddr*)&c->addr, len);
}
static void s_accept(struct ctx* c) {
  c->lsock = tcp_listener(16, &c->addr);
  if (c->ready) {
    c->csock = nb_connect(&c->addr);
    usleep(1000);
  }
}
static void s_connect(struct ctx* c) {
  /* A backlog of 0 holds one connection; the SYNs of the next ones are
   * dropped, so their connect() waits (for minutes). */
  c->lsock = tcp_listener(c->ready ? 16 : 0, &c->addr);
  c->fd = -1;
  if (!c->ready) {
    c->fd = nb_connect(&c->addr);
    usleep(10000);
  }
  c->csock = socket(AF_INET, SOCK_STREAM, 0);
}
static void s_epoll(struct ctx* c) {
  s_pipe(c);
  c->ep = epoll_create1(0);
  struct epoll_event e = {.events = EPOLLIN, .data.fd = c->p[0]};
  epoll_ctl(c->ep, EPOLL_CTL_ADD, c->p[0], &e);
}
static void s_cond(struct ctx* c) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);  /* unlock tells who owns it */
  pthread_mutex_init(&c->mu, &a);
  pthread_cond_init(&c->cv, NULL);
}
static void s_cond_mono(struct ctx* c) {
  s_cond(c);
  pthread_condattr_t a;
  pthread_condattr_init(&a);
  pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
  pthread_cond_destroy(&c->cv);
  pthread_cond_init(&c->cv, &a);
}
static void s_c11(struct ctx* c) {
  mtx_init(&c->cmu, mtx_plain);
  cnd_init(&c->ccv);
}
static void* held(void* arg) {
  struct ctx* c = arg;
  sem_wait(&c->hold);
  return (void*)7;
}
static void s_join(struct ctx* c) {
  sem_init(&c->hold, 0, 0);
  pthread_create(&c->other, NULL, held, c);
}
static void s_sem(struct ctx* c) { sem_init(&c->sem, 0, c->ready); }
static void s_child(struct ctx* c) {
  c->child = fork();
  if (c->child == 0) {
    if (c->ready) _exit(0);
    for (;;) pause();
  }
  if (c->ready) {  /* wait until it is a zombie, without reaping it */
    siginfo_t si;
    waitid(P_PID, (id_t)c->child, &si, WEXITED | WNOWAIT);
  }
}
static void s_fifo(struct ctx* c) {
  snprintf(c->fifo, sizeof c->fifo, "/tmp/cancel-fifo-%d", (int)getpid());
  unlink(c->fifo);
  if (mkfifo(c->fifo, 0600)) perror("mkfifo");
}
static void s_file(struct ctx* c) {
  snprintf(c->file, sizeof c->file, "/tmp/cancel-file-XXXXXX");
  c->fd = mkstemp(c->file);
  (void)!write(c->fd, "0123456789", 10);
}
static void s_locked(struct ctx* c) {  /* another process holds a write lock on the file */
  s_file(c);
  c->child = -1;
  if (c->ready) return;
  int sync[2];
  if (pipe(sync)) perror("pipe");
  c->child = fork();
  if (c->child == 0) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int fd = open(c->file, O_RDWR);
    if (fcntl(fd, F_SETLK, &fl)) _exit(1);
    (void)!write(sync[1], "x", 1);
    for (;;) pause();
  }
  char b;
  (void)!read(sync[0], &b, 1);
  close(sync[0]);
  close(sync[1]);
}
static void s_msq(struct ctx* c) {
  c->msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  if (c->msq < 0) perror("msgget");
  struct { long type; char b[1]; } m = {1, {'x'}};
  if (c->ready) msgsnd(c->msq, &m, 1, 0);
}

/* ---- the calls ---- */
static struct timespec secs(long s) { return (struct timespec){s, 0}; }
static void c_sleep(struct ctx* c) { sleep(c->ready ? 0 : 100); }
static void c_usleep(struct ctx* c) { usleep(c->ready ? 0 : 100000000); }
static void c_nanosleep(struct ctx* c) {
  struct timespec t = secs(c->ready ? 0 : 100);
  nanosleep(&t, NULL);
}
static void c_clock_nanosleep(struct ctx* c) {
  struct timespec t = secs(c->ready ? 0 : 100);
  clock_nanosleep(CLOCK_MONOTONIC, 0, &t, NULL);
}
static void c_clock_nanosleep_abs(struct ctx* c) {
  struct timespec t = in_seconds(CLOCK_REALTIME, c->ready ? -1 : 100);
  clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &t, NULL);
}
static void c_clock_nanosleep_cpu(struct ctx* c) {  /* a CPU-time clock: the system call */
  struct timespec t = secs(c->ready ? 0 : 100);
  clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &t, NULL);
}
static void c_read(struct ctx* c) {
  char b;
  (void)!read(c->p[0], &b, 1);
}
static void c_readv(struct ctx* c) {
  char b;
  struct iovec v = {&b, 1};
  (void)!readv(c->p[0], &v, 1);
}
static void c_read_sock(struct ctx* c) {
  char b;
  (void)!read(c->sv[0], &b, 1);
}
static void c_recv(struct ctx* c) {
  char b;
  recv(c->sv[0], &b, 1, 0);
}
static void c_recvfrom(struct ctx* c) {
  char b;
  recvfrom(c->udp, &b, 1, 0, NULL, NULL);
}
static void c_recvmsg(struct ctx* c) {
  char b;
  struct iovec v = {&b, 1};
  struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
  recvmsg(c->sv[0], &m, 0);
}
static void c_recvmmsg(struct ctx* c) {
  char b;
  struct iovec v = {&b, 1};
  struct mmsghdr m = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
  recvmmsg(c->udp, &m, 1, 0, NULL);
}
static void c_write(struct ctx* c) { (void)!write(c->p[1], "x", 1); }
static void c_writev(struct ctx* c) {
  struct iovec v = {"x", 1};
  (void)!writev(c->p[1], &v, 1);
}
static void c_send(struct ctx* c) { send(c->sv[0], "x", 1, 0); }
static void c_sendto(struct ctx* c) { sendto(c->sv[0], "x", 1, 0, NULL, 0); }
static void c_sendmsg(struct ctx* c) {
  struct iovec v = {"x", 1};
  struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
  sendmsg(c->sv[0], &m, 0);
}
static void c_sendmmsg(struct ctx* c) {
  struct iovec v = {"x", 1};
  struct mmsghdr m = {.msg_hdr = {.msg_iov = &v, .msg_iovlen = 1}};
  sendmmsg(c->sv[0], &m, 1, 0);
}
static void c_accept(struct ctx* c) {
  int s = accept(c->lsock, NULL, NULL);
  if (s >= 0) close(s);
}
static void c_accept4(struct ctx* c) {
  int s = accept4(c->lsock, NULL, NULL, SOCK_CLOEXEC);
  if (s >= 0) close(s);
}
static void c_connect(struct ctx* c) {
  connect(c->csock, (struct sockaddr*)&c->addr, sizeof c->addr);
}
static void c_poll(struct ctx* c) {
  struct pollfd p = {c->p[0], POLLIN, 0};
  poll(&p, 1, -1);
}
static void c_ppoll(struct ctx* c) {
  struct pollfd p = {c->p[0], POLLIN, 0};
  ppoll(&p, 1, NULL, NULL);
}
static void c_select(struct ctx* c) {
  fd_set r;
  FD_ZERO(&r);
  FD_SET(c->p[0], &r);
  select(c->p[0] + 1, &r, NULL, NULL, NULL);
}
static void c_pselect(struct ctx* c) {
  fd_set r;
  FD_ZERO(&r);
  FD_SET(c->p[0], &r);
  pselect(c->p[0] + 1, &r, NULL, NULL, NULL, NULL);
}
static void c_poll_sleep(struct ctx* c) { poll(NULL, 0, c->ready ? 0 : 100000); }
static void c_select_sleep(struct ctx* c) {
  struct timeval tv = {c->ready ? 0 : 100, 0};
  select(0, NULL, NULL, NULL, &tv);
}
static void c_epoll_wait(struct ctx* c) {
  struct epoll_event e;
  epoll_wait(c->ep, &e, 1, -1);
}
static void c_epoll_pwait(struct ctx* c) {
  struct epoll_event e;
  epoll_pwait(c->ep, &e, 1, -1, NULL);
}
static void c_epoll_pwait2(struct ctx* c) {
  struct epoll_event e;
  epoll_pwait2(c->ep, &e, 1, NULL, NULL);
}
static void c_cond_wait(struct ctx* c) { pthread_cond_wait(&c->cv, &c->mu); }
static void c_cond_timedwait(struct ctx* c) {
  struct timespec t = in_seconds(CLOCK_REALTIME, 100);
  pthread_cond_timedwait(&c->cv, &c->mu, &t);
}
static void c_cond_timedwait_mono(struct ctx* c) {
  struct timespec t = in_seconds(CLOCK_MONOTONIC, 100);
  pthread_cond_timedwait(&c->cv, &c->mu, &t);
}
static void c_cond_clockwait(struct ctx* c) {
  struct timespec t = in_seconds(CLOCK_MONOTONIC, 100);
  pthread_cond_clockwait(&c->cv, &c->mu, CLOCK_MONOTONIC, &t);
}
static void c_cnd_wait(struct ctx* c) {
  mtx_lock(&c->cmu);
  cnd_wait(&c->ccv, &c->cmu);
}
static void c_thrd_sleep(struct ctx* c) {
  struct timespec t = secs(c->ready ? 0 : 100);
  thrd_sleep(&t, NULL);
}
static void c_join(struct ctx* c) { pthread_join(c->other, NULL); }
static void c_timedjoin(struct ctx* c) {
  struct timespec t = in_seconds(CLOCK_REALTIME, 100);
  pthread_timedjoin_np(c->other, NULL, &t);
}
static void c_clockjoin(struct ctx* c) {
  struct timespec t = in_seconds(CLOCK_MONOTONIC, 100);
  pthread_clockjoin_np(c->other, NULL, CLOCK_MONOTONIC, &t);
}
static void c_sem_wait(struct ctx* c) { sem_wait(&c->sem); }
static void c_sem_timedwait(struct ctx* c) {
  struct timespec t = in_seconds(CLOCK_REALTIME, 100);
  sem_timedwait(&c->sem, &t);
}
static void c_sem_clockwait(struct ctx* c) {
  struct timespec t = in_seconds(CLOCK_MONOTONIC, 100);
  sem_clockwait(&c->sem, CLOCK_MONOTONIC, &t);
}
static sigset_t usr1(void) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGUSR1);
  return s;
}
static void c_sigwait(struct ctx* c) {
  sigset_t s = usr1();
  int sig;
  if (c->ready) pthread_kill(pthread_self(), SIGUSR1);  /* blocked: pending */
  sigwait(&s, &sig);
}
static void c_sigwaitinfo(struct ctx* c) {
  sigset_t s = usr1();
  if (c->ready) pthread_kill(pthread_self(), SIGUSR1);
  sigwaitinfo(&s, NULL);
}
static void c_sigtimedwait(struct ctx* c) {
  sigset_t s = usr1();
  struct timespec t = secs(100);
  if (c->ready) pthread_kill(pthread_self(), SIGUSR1);
  sigtimedwait(&s, NULL, &t);
}
static void c_sigsuspend(struct ctx* c) {
  (void)c;
  sigset_t s;
  pthread_sigmask(SIG_BLOCK, NULL, &s);  /* SIGUSR1 stays blocked: nothing comes */
  sigsuspend(&s);
}
static void c_pause(struct ctx* c) {
  (void)c;
  pause();
}
static void c_waitpid(struct ctx* c) { waitpid(c->child, NULL, 0); }
static void c_wait(struct ctx* c) {
  (void)c;
  wait(NULL);
}
static void c_waitid(struct ctx* c) {
  siginfo_t si;
  waitid(P_PID, (id_t)c->child, &si, WEXITED);
}
static void c_open(struct ctx* c) {  /* a FIFO without a writer */
  int fd = open(c->fifo, O_RDONLY | (c->ready ? O_NONBLOCK : 0));
  if (fd >= 0) close(fd);
}
static void c_openat(struct ctx* c) {
  int fd = openat(AT_FDCWD, c->fifo, O_RDONLY | (c->ready ? O_NONBLOCK : 0));
  if (fd >= 0) close(fd);
}
static void c_creat(struct ctx* c) {
  int fd = creat(c->file, 0600);
  if (fd >= 0) close(fd);
}
static void c_fsync(struct ctx* c) { fsync(c->fd); }
static void c_fdatasync(struct ctx* c) { fdatasync(c->fd); }
static void c_pread(struct ctx* c) {
  char b[4];
  (void)!pread(c->fd, b, sizeof b, 0);
}
static void c_pwrite(struct ctx* c) { (void)!pwrite(c->fd, "ab", 2, 0); }
static void c_close(struct ctx* c) { close(c->fd); }  /* acted on before it closes */
static void c_fcntl_setlkw(struct ctx* c) {
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
  int fd = open(c->file, O_RDWR);
  fcntl(fd, F_SETLKW, &fl);
}
static void c_lockf(struct ctx* c) {
  int fd = open(c->file, O_RDWR);
  lockf(fd, F_LOCK, 0);
}
static void c_msgrcv(struct ctx* c) {
  struct { long type; char b[1]; } m;
  msgrcv(c->msq, &m, 1, 0, 0);
}
static void c_msgsnd(struct ctx* c) {
  struct { long type; char b[1]; } m = {1, {'x'}};
  msgsnd(c->msq, &m, 1, 0);
}
static void c_testcancel(struct ctx* c) {
  if (c->ready) pthread_testcancel();
  else
    for (;;) {
      pthread_testcancel();
      sched_yield();
    }
}

#define BOTH (BLOCKED | ENTRY)
static const struct point points[] = {
    {"sleep", NULL, c_sleep, BOTH, 0},
    {"usleep", NULL, c_usleep, BOTH, 0},
    {"nanosleep", NULL, c_nanosleep, BOTH, 0},
    {"clock_nanosleep", NULL, c_clock_nanosleep, BOTH, 0},
    {"clock_nanosleep-abstime", NULL, c_clock_nanosleep_abs, BOTH, 0},
    {"clock_nanosleep-cputime", NULL, c_clock_nanosleep_cpu, BOTH, 0},
    {"thrd_sleep", NULL, c_thrd_sleep, BOTH, 0},
    {"read-pipe", s_pipe, c_read, BOTH, 0},
    {"readv-pipe", s_pipe, c_readv, BOTH, 0},
    {"read-socket", s_pair, c_read_sock, BOTH, 0},
    {"recv", s_pair, c_recv, BOTH, 0},
    {"recvfrom-udp", s_udp, c_recvfrom, BOTH, 0},
    {"recvmsg", s_pair, c_recvmsg, BOTH, 0},
    {"recvmmsg-udp", s_udp, c_recvmmsg, BOTH, 0},
    {"write-pipe", s_full_pipe, c_write, BOTH, 0},
    {"writev-pipe", s_full_pipe, c_writev, BOTH, 0},
    {"send", s_full_pair, c_send, BOTH, 0},
    {"sendto", s_full_pair, c_sendto, BOTH, 0},
    {"sendmsg", s_full_pair, c_sendmsg, BOTH, 0},
    {"sendmmsg", s_full_pair, c_sendmmsg, BOTH, 0},
    {"accept", s_accept, c_accept, BOTH, 0},
    {"accept4", s_accept, c_accept4, BOTH, 0},
    {"connect", s_connect, c_connect, BOTH, 0},
    {"poll", s_pipe, c_poll, BOTH, 0},
    {"ppoll", s_pipe, c_ppoll, BOTH, 0},
    {"select", s_pipe, c_select, BOTH, 0},
    {"pselect", s_pipe, c_pselect, BOTH, 0},
    {"poll-sleep", NULL, c_poll_sleep, BOTH, 0},
    {"select-sleep", NULL, c_select_sleep, BOTH, 0},
    {"epoll_wait", s_epoll, c_epoll_wait, BOTH, 0},
    {"epoll_pwait", s_epoll, c_epoll_pwait, BOTH, 0},
    {"epoll_pwait2", s_epoll, c_epoll_pwait2, BOTH, 0},
    {"pthread_cond_wait", s_cond, c_cond_wait, BOTH, 1},
    {"pthread_cond_timedwait", s_cond, c_cond_timedwait, BOTH, 1},
    {"pthread_cond_timedwait-monotonic", s_cond_mono, c_cond_timedwait_mono, BOTH, 1},
    {"pthread_cond_clockwait", s_cond, c_cond_clockwait, BOTH, 1},
    {"cnd_wait", s_c11, c_cnd_wait, BOTH, 0},
    /* glibc acts on a pending cancellation in join only if it has to wait */
    {"pthread_join", s_join, c_join, BLOCKED, 0},
    {"pthread_timedjoin_np", s_join, c_timedjoin, BLOCKED, 0},
    {"pthread_clockjoin_np", s_join, c_clockjoin, BLOCKED, 0},
    {"sem_wait", s_sem, c_sem_wait, BOTH, 0},
    {"sem_timedwait", s_sem, c_sem_timedwait, BOTH, 0},
    /* glibc's sem_clockwait (unlike sem_wait and sem_timedwait) takes a
     * token without acting on a pending cancellation */
    {"sem_clockwait", s_sem, c_sem_clockwait, BLOCKED, 0},
    {"sigwait", NULL, c_sigwait, BOTH, 0},
    {"sigwaitinfo", NULL, c_sigwaitinfo, BOTH, 0},
    {"sigtimedwait", NULL, c_sigtimedwait, BOTH, 0},
    {"sigsuspend", NULL, c_sigsuspend, BLOCKED, 0},
    {"pause", NULL, c_pause, BLOCKED, 0},
    {"waitpid", s_child, c_waitpid, BOTH, 0},
    {"wait", s_child, c_wait, BOTH, 0},
    {"waitid", s_child, c_waitid, BOTH, 0},
    {"open-fifo", s_fifo, c_open, BOTH, 0},
    {"openat-fifo", s_fifo, c_openat, BOTH, 0},
    {"creat", s_file, c_creat, ENTRY, 0},
    {"fsync", s_file, c_fsync, ENTRY, 0},
    {"fdatasync", s_file, c_fdatasync, ENTRY, 0},
    {"pread", s_file, c_pread, ENTRY, 0},
    {"pwrite", s_file, c_pwrite, ENTRY, 0},
    {"close", s_file, c_close, ENTRY, 0},
    {"fcntl-F_SETLKW", s_locked, c_fcntl_setlkw, BOTH, 0},
    {"lockf-F_LOCK", s_locked, c_lockf, BOTH, 0},
    {"msgrcv", s_msq, c_msgrcv, BOTH, 0},
    {"msgsnd", s_msq, c_msgsnd, ENTRY, 0},
    {"pthread_testcancel", NULL, c_testcancel, BOTH, 0},
};

static void handler(void* arg) {
  struct ctx* c = arg;
  c->cleaned++;
  if (c->pt->locks) c->unlocked = pthread_mutex_unlock(&c->mu) == 0 ? 1 : -1;
}

static void* target(void* arg) {
  struct ctx* c = arg;
  if (c->ready) pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
  pthread_cleanup_push(handler, c);
  if (c->pt->locks) pthread_mutex_lock(&c->mu);
  sem_post(&c->started);
  if (c->ready) {
    sem_wait(&c->go);  /* cancellation disabled: waits as if it were not a point */
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);  /* not a point: goes on */
    c->enabled = 1;
  }
  c->pt->call(c);
  c->returned = 1;
  pthread_cleanup_pop(0);
  return NULL;
}

static void teardown(struct ctx* c) {
  int fds[] = {c->p[0], c->p[1], c->sv[0], c->sv[1], c->udp, c->lsock, c->csock, c->ep};
  for (unsigned i = 0; i < sizeof fds / sizeof fds[0]; i++)
    if (fds[i] > 0) close(fds[i]);
  if (c->child > 0) {
    kill(c->child, SIGKILL);
    waitpid(c->child, NULL, 0);
  }
  if (c->fifo[0]) unlink(c->fifo);
  if (c->file[0]) {
    if (!strcmp(c->pt->name, "close"))
      CHECK(fcntl(c->fd, F_GETFD) != -1, "%s: the fd was closed before the cancellation", c->pt->name);
    close(c->fd);
    unlink(c->file);
  } else if (c->fd > 0) {
    close(c->fd);
  }
  if (c->msq > 0) msgctl(c->msq, IPC_RMID, NULL);
  if (c->other) {  /* a cancelled joiner leaves its target joinable */
    void* r = NULL;
    sem_post(&c->hold);
    CHECK(pthread_join(c->other, &r) == 0 && r == (void*)7, "%s: target not joinable after", c->pt->name);
  }
}

static void run(const struct point* pt, int entry) {
  struct ctx c;
  memset(&c, 0, sizeof c);
  c.pt = pt;
  c.ready = entry;
  c.p[0] = c.p[1] = c.sv[0] = c.sv[1] = c.udp = c.lsock = c.csock = c.ep = c.fd = c.msq = -1;
  sem_init(&c.started, 0, 0);
  sem_init(&c.go, 0, 0);
  if (pt->setup) pt->setup(&c);
  pthread_t t;
  void* res = NULL;
  if (pthread_create(&t, NULL, target, &c)) {
    CHECK(0, "%s: pthread_create", pt->name);
    return;
  }
  sem_wait(&c.started);
  if (!entry) let_it_block();
  CHECK(pthread_cancel(t) == 0, "%s", pt->name);
  if (entry) sem_post(&c.go);
  CHECK(pthread_join(t, &res) == 0, "%s", pt->name);
  const char* mode = entry ? "entry" : "blocked";
  int before = failures;
  CHECK(res == PTHREAD_CANCELED, "%s [%s]: result %p", pt->name, mode, res);
  CHECK(c.cleaned == 1, "%s [%s]: cleanup handler ran %d times", pt->name, mode, c.cleaned);
  CHECK(!c.returned, "%s [%s]: the call returned", pt->name, mode);
  CHECK(!entry || c.enabled, "%s [%s]: acted on before the thread re-enabled", pt->name, mode);
  CHECK(!pt->locks || c.unlocked == 1, "%s [%s]: mutex not held in the cleanup handler", pt->name,
        mode);
  teardown(&c);
  printf("%s %s [%s]\n", failures == before ? "ok  " : "FAIL", pt->name, mode);
}

int main(int argc, char** argv) {
  /* Every thread inherits SIGUSR1 blocked (sigwait); SIGPIPE off. */
  sigset_t s = usr1();
  pthread_sigmask(SIG_BLOCK, &s, NULL);
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  int n = 0;
  for (unsigned i = 0; i < sizeof points / sizeof points[0]; i++) {
    if (argc > 1 && !strstr(points[i].name, argv[1])) continue;
    if (points[i].modes & BLOCKED) run(&points[i], 0), n++;
    if (points[i].modes & ENTRY) run(&points[i], 1), n++;
  }
  printf("%d cases, %d failures\n", n, failures);
  return failures != 0;
}
