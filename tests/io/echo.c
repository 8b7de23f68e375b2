/* Thread-per-connection echo server and threaded client in one process:
 * blocking accept/read/write, one thread per connection on both sides.
 * Every byte must come back intact. Prints the kernel's peak thread count. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "common.h"

static int port, msglen, nclients;
/* Clients hold their connection until every client has connected, so the
 * server really has all of them open at once. */
static pthread_mutex_t all_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_cv = PTHREAD_COND_INITIALIZER;
static int connected;
static void wait_all_connected(void) {
  pthread_mutex_lock(&all_mu);
  if (++connected == nclients) pthread_cond_broadcast(&all_cv);
  while (connected < nclients) pthread_cond_wait(&all_cv, &all_mu);
  pthread_mutex_unlock(&all_mu);
}

static void* serve_conn(void* a) {
  int c = (int)(long)a;
  char buf[16384];
  ssize_t k;
  while ((k = read(c, buf, sizeof buf)) > 0)
    if (write(c, buf, (size_t)k) != k) break;
  close(c);
  return NULL;
}

static void* server(void* a) {
  int s = (int)(long)a;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&at, 64 << 10);
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) return NULL;
    pthread_t t;
    if (pthread_create(&t, &at, serve_conn, (void*)(long)c)) close(c);
  }
}

static void* client(void* a) {
  long id = (long)a;
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int failed = connect(s, (void*)&sa, sizeof sa) != 0;
  wait_all_connected();
  if (failed) return (void*)1;
  char* out = malloc(msglen);
  char* in = malloc(msglen);
  for (int i = 0; i < msglen; i++) out[i] = (char)(id * 131 + i * 7);
  long bad = write(s, out, msglen) != msglen;
  int got = 0;
  while (!bad && got < msglen) {
    ssize_t k = read(s, in + got, msglen - got);
    if (k <= 0) bad = 1;
    else got += k;
  }
  bad = bad || memcmp(in, out, msglen);
  close(s);
  free(in);
  free(out);
  return (void*)bad;
}

/* echo [N [LEN]]: server and client in one process.
 * echo server N: serve N connections on an ephemeral port (printed first
 *   as "PORT p"), then print the peak thread count and exit.
 * echo client PORT N [LEN]: N client threads against that port. */
static int run_clients(int n) {
  nclients = n;
  pthread_t* cs = calloc(n, sizeof *cs);
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setstacksize(&at, 64 << 10);
  int made = 0;
  for (long i = 0; i < n; i++, made++)
    if (pthread_create(&cs[i], &at, client, (void*)i)) break;
  if (made < n) {  /* let the ones that exist through the rendezvous */
    pthread_mutex_lock(&all_mu);
    nclients = made;
    pthread_cond_broadcast(&all_cv);
    pthread_mutex_unlock(&all_mu);
  }
  long bad = 0;
  for (int i = 0; i < made; i++) {
    void* r;
    pthread_join(cs[i], &r);
    bad += r != NULL;
  }
  CHECK(made == n, "only %d client threads could be created", made);
  CHECK(bad == 0, "%ld connections lost or corrupted bytes", bad);
  return made;
}

static int listen_any(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(s, (void*)&sa, sizeof sa);
  listen(s, 65535);
  socklen_t l = sizeof sa;
  getsockname(s, (void*)&sa, &l);
  port = ntohs(sa.sin_port);
  return s;
}

int main(int argc, char** argv) {
  if (argc > 2 && !strcmp(argv[1], "server")) {
    int n = atoi(argv[2]);
    monitor_start();
    int s = listen_any();
    printf("PORT %d\n", port);
    fflush(stdout);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 64 << 10);
    pthread_t* ts = calloc(n, sizeof *ts);
    int made = 0;
    for (int i = 0; i < n; i++) {
      int c = accept(s, NULL, NULL);
      if (c < 0) break;
      if (pthread_create(&ts[made], &at, serve_conn, (void*)(long)c)) { close(c); break; }
      made++;
    }
    for (int i = 0; i < made; i++) pthread_join(ts[i], NULL);
    int peak = monitor_end();
    CHECK(made == n, "served %d of %d connections", made, n);
    printf("server %d connections: %s\nPEAK_THREADS %d\n", made, failures ? "FAILED" : "ok", peak);
    return failures != 0;
  }
  if (argc > 3 && !strcmp(argv[1], "client")) {
    port = atoi(argv[2]);
    int n = atoi(argv[3]);
    msglen = argc > 4 ? atoi(argv[4]) : 4096;
    int made = run_clients(n);
    printf("client %d connections x %d bytes: %s\n", made, msglen, failures ? "FAILED" : "ok");
    return failures != 0;
  }
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  msglen = argc > 2 ? atoi(argv[2]) : 4096;
  monitor_start();
  int s = listen_any();
  pthread_t st;
  pthread_create(&st, NULL, server, (void*)(long)s);
  int made = run_clients(n);
  int peak = monitor_end();
  printf("echo %d connections x %d bytes: %s\nPEAK_THREADS %d\n", made, msglen, failures ? "FAILED" : "ok", peak);
  return failures != 0;
}
