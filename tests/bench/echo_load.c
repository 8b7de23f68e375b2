/* echo_load PORT CONNS [SECONDS [MSGLEN]]: load client for echo servers.
 *
 * One thread, one epoll instance (so the client costs one core and is the
 * same for every server it measures). It opens CONNS connections to
 * 127.0.0.1:PORT (in batches of 256, each connect checked), then every
 * connection runs a closed loop: send a MSGLEN-byte request (default 64)
 * carrying its connection number and sequence number, wait for the whole
 * echo, check every byte, send the next. After 0.5 s of warm-up it counts
 * for SECONDS (default 3): requests per second and the latency of each
 * request (send to last byte back). Then it stops sending, waits for the
 * requests in flight, and closes every connection (the servers exit after
 * their CONNS connections closed).
 *   RESULT name=echo rps=<req/s> p50_us=<us> p99_us=<us> conns=<n> bytes=<echoed, checked>
 * Exit 1, with no RESULT, on any failed connect, error, short echo or
 * wrong byte. The open-files limit is raised to the hard limit. */
#include "common.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

struct conn {
  int fd;
  int out_off, in_off; /* bytes of the current request sent / echoed */
  uint32_t seq;
  long long sent_at;
  int busy; /* a request is in flight */
};

static int msglen;
static char* want; /* scratch: the expected echo of the current request */

static void fill(char* b, uint32_t id, uint32_t seq) {
  for (int i = 0; i < msglen; i++) b[i] = (char)(id * 31 + seq * 7 + (uint32_t)i * 13);
  if (msglen >= 8) {
    memcpy(b, &id, 4);
    memcpy(b + 4, &seq, 4);
  }
}

static int start_request(struct conn* c, uint32_t id, char* out) {
  c->seq++;
  fill(out, id, c->seq);
  c->out_off = c->in_off = 0;
  c->busy = 1;
  c->sent_at = now_ns();
  ssize_t k = write(c->fd, out, (size_t)msglen);
  if (k < 0 && errno != EAGAIN) return -1;
  if (k > 0) c->out_off = (int)k;
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 3) DIE("usage: echo_load PORT CONNS [SECONDS [MSGLEN]]");
  const char* usage = "echo_load PORT CONNS [SECONDS [MSGLEN]]";
  int port = (int)arg_long(argc, argv, 1, 0, usage);
  long n = arg_long(argc, argv, 2, 0, usage);
  long secs = arg_long(argc, argv, 3, 3, usage);
  msglen = (int)arg_long(argc, argv, 4, 64, usage);
  if (msglen > 65536) DIE("usage: %s (MSGLEN <= 65536)", usage);
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if ((rlim_t)n + 16 > rl.rlim_cur) DIE("echo_load: %ld connections need more open files than %ld", n, (long)rl.rlim_cur);

  struct conn* cs = calloc((size_t)n, sizeof *cs);
  char* out = malloc((size_t)msglen);
  char* in = malloc(65536);
  want = malloc((size_t)msglen);
  long cap = 8 << 20, nlat = 0;
  long long* lat = malloc(sizeof *lat * (size_t)cap);
  int ep = epoll_create1(0);
  if (!cs || !out || !in || !want || !lat || ep < 0) DIE("echo_load: no memory");
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  struct epoll_event evs[512];

  /* connect in batches, each connection checked */
  for (long i = 0; i < n;) {
    long batch = n - i < 256 ? n - i : 256, pending = 0;
    for (long j = i; j < i + batch; j++) {
      int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      if (s < 0) DIE("echo_load: socket #%ld: %s", j, strerror(errno));
      int one = 1;
      setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      cs[j].fd = s;
      if (connect(s, (void*)&sa, sizeof sa) && errno != EINPROGRESS) DIE("echo_load: connect #%ld: %s", j, strerror(errno));
      struct epoll_event ev = {.events = EPOLLOUT, .data.u64 = (uint64_t)j};
      epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
      pending++;
    }
    long long give_up = now_ns() + 30000000000LL;
    while (pending > 0) {
      int k = epoll_wait(ep, evs, 512, 1000);
      if (now_ns() > give_up) DIE("echo_load: %ld connects still pending after 30 s", pending);
      for (int e = 0; e < k; e++) {
        long j = (long)evs[e].data.u64;
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(cs[j].fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err) DIE("echo_load: connect #%ld: %s", j, strerror(err));
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)j};
        epoll_ctl(ep, EPOLL_CTL_MOD, cs[j].fd, &ev);
        pending--;
      }
    }
    i += batch;
  }

  long long t_start = now_ns();
  long long t_measure = t_start + 500000000LL, t_stop = t_measure + secs * 1000000000LL;
  long long bytes = 0, done_in_window = 0, inflight = 0;
  int stopping = 0;
  for (long j = 0; j < n; j++) {
    if (start_request(&cs[j], (uint32_t)j, out)) DIE("echo_load: write: %s", strerror(errno));
    inflight++;
    if (cs[j].out_off < msglen) {
      struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)j};
      epoll_ctl(ep, EPOLL_CTL_MOD, cs[j].fd, &ev);
    }
  }
  while (inflight > 0) {
    int k = epoll_wait(ep, evs, 512, 5000);
    if (k == 0) DIE("echo_load: no progress for 5 s with %lld requests in flight", inflight);
    if (k < 0) {
      if (errno == EINTR) continue;
      DIE("echo_load: epoll_wait: %s", strerror(errno));
    }
    long long now = now_ns();
    if (!stopping && now >= t_stop) stopping = 1;
    for (int e = 0; e < k; e++) {
      long j = (long)evs[e].data.u64;
      struct conn* c = &cs[j];
      if (!c->busy) continue;
      if ((evs[e].events & EPOLLOUT) && c->out_off < msglen) {
        fill(out, (uint32_t)j, c->seq);
        ssize_t w = write(c->fd, out + c->out_off, (size_t)(msglen - c->out_off));
        if (w < 0 && errno != EAGAIN) DIE("echo_load: write: %s", strerror(errno));
        if (w > 0) c->out_off += (int)w;
        if (c->out_off == msglen) {
          struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)j};
          epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        }
      }
      if (!(evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) continue;
      ssize_t r = read(c->fd, in, (size_t)(msglen - c->in_off));
      if (r == 0) DIE("echo_load: connection %ld closed by the server", j);
      if (r < 0) {
        if (errno == EAGAIN) continue;
        DIE("echo_load: read: %s", strerror(errno));
      }
      if (c->in_off + r > c->out_off) DIE("echo_load: connection %ld: more bytes back than sent", j);
      fill(want, (uint32_t)j, c->seq);
      if (memcmp(in, want + c->in_off, (size_t)r)) DIE("echo_load: connection %ld: wrong bytes echoed", j);
      c->in_off += (int)r;
      bytes += r;
      if (c->in_off < msglen) continue;
      c->busy = 0;
      inflight--;
      if (c->sent_at >= t_measure && now < t_stop) {
        done_in_window++;
        if (nlat < cap) lat[nlat++] = now - c->sent_at;
      }
      if (stopping) continue;
      if (start_request(c, (uint32_t)j, out)) DIE("echo_load: write: %s", strerror(errno));
      inflight++;
      if (c->out_off < msglen) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)j};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
      }
    }
  }
  for (long j = 0; j < n; j++) close(cs[j].fd);
  if (done_in_window == 0) DIE("echo_load: no request completed in the measured window");
  double rps = (double)done_in_window / (double)secs;
  long long p50 = quantile(lat, nlat, 0.50), p99 = quantile(lat, nlat, 0.99);
  printf("echo_load: %ld connections, %lld requests in %ld s, %lld bytes echoed and checked\n", n,
         done_in_window, secs, bytes);
  printf("RESULT name=echo rps=%.0f p50_us=%.1f p99_us=%.1f conns=%ld bytes=%lld\n", rps, p50 / 1e3, p99 / 1e3, n, bytes);
  return 0;
}
