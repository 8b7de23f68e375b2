/* N threads in a ring of pipes pass a token M times around: every hop is a
 * blocking read on a pipe (netpoller) followed by a write. */
#include "common.h"

static int n, rounds;
static int (*pipes)[2];

static void* node(void* arg) {
  long i = (long)arg;
  int in = pipes[i][0], out = pipes[(i + 1) % n][1];
  for (;;) {
    int token;
    if (read(in, &token, sizeof token) != sizeof token) return (void*)1;
    if (token >= rounds * n) {  /* pass the stop token on and leave */
      write(out, &token, sizeof token);
      return NULL;
    }
    token++;
    if (write(out, &token, sizeof token) != sizeof token) return (void*)1;
  }
}

int main(int argc, char** argv) {
  n = argc > 1 ? atoi(argv[1]) : 1000;
  rounds = argc > 2 ? atoi(argv[2]) : 10;
  pipes = calloc(n, sizeof *pipes);
  for (int i = 0; i < n; i++)
    if (pipe(pipes[i])) { perror("pipe"); return 2; }
  pthread_t* t = calloc(n, sizeof *t);
  pthread_attr_t a;
  pthread_attr_init(&a);
  pthread_attr_setstacksize(&a, 64 << 10);
  for (long i = 0; i < n; i++) CHECK(pthread_create(&t[i], &a, node, (void*)i) == 0, "create %ld", i);
  int token = 0;
  write(pipes[0][1], &token, sizeof token);
  long bad = 0;
  for (int i = 0; i < n; i++) {
    void* r;
    pthread_join(t[i], &r);
    bad += r != NULL;
  }
  int last;
  CHECK(read(pipes[0][0], &last, sizeof last) == sizeof last && last == rounds * n, "final token %d", last);
  CHECK(bad == 0, "%ld threads saw a short read/write", bad);
  printf("ring %d threads x %d rounds: %s\n", n, rounds, failures ? "FAILED" : "ok");
  return failures != 0;
}
