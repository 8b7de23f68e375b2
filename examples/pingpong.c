/* pingpong cond|yield|sem [N]: two threads hand a token back and forth N
 * round trips (default 1,000,000).
 *   cond:  mutex + condition variable, the turn in a shared variable;
 *   yield: spinning on the shared turn variable with sched_yield();
 *   sem:   two semaphores, each thread posts the other's and waits on its
 *          own (the shape of an unbuffered channel hand-off).
 * A round trip is two switches (A->B, B->A). Thread A times the N round
 * trips alone (CLOCK_MONOTONIC, after both threads are running, so thread
 * creation is not counted) and the result is ns per switch:
 *   RESULT name=pingpong_<mode> ns_per_op=<ns per switch> ops=<2N>
 * Exit status 0 only if both threads saw every hand-over in order. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t start;
static sem_t sem[2];
static int turn, mode; /* mode: 0 cond, 1 yield, 2 sem */
static long n, handovers[2], out_of_turn;

/* Wait until it is `me`'s turn, then give the turn to the other thread. */
static void take_and_pass(int me) {
  switch (mode) {
    case 0:
      pthread_mutex_lock(&mu);
      while (turn != me) pthread_cond_wait(&cv, &mu);
      turn = 1 - me;
      pthread_cond_signal(&cv);
      pthread_mutex_unlock(&mu);
      break;
    case 1:
      while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != me) sched_yield();
      __atomic_store_n(&turn, 1 - me, __ATOMIC_RELEASE);
      break;
    default:
      sem_wait(&sem[me]);
      /* turn is only written by the holder of the token: check the order */
      if (turn != me) out_of_turn++;
      turn = 1 - me;
      sem_post(&sem[1 - me]);
  }
  handovers[me]++;
}

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Thread A (0) starts with the token; B (1) waits for it. */
static void* player(void* arg) {
  int me = (int)(long)arg;
  pthread_barrier_wait(&start);
  double t0 = now_ns();
  for (long i = 0; i < n; i++) take_and_pass(me);
  if (me == 0) {
    /* wait for B's last hand-back: N complete round trips */
    if (mode == 2) {
      sem_wait(&sem[0]);
    } else if (mode == 1) {
      while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 0) sched_yield();
    } else {
      pthread_mutex_lock(&mu);
      while (turn != 0) pthread_cond_wait(&cv, &mu);
      pthread_mutex_unlock(&mu);
    }
  }
  double* elapsed = malloc(sizeof *elapsed);
  if (elapsed) *elapsed = now_ns() - t0;
  return elapsed;
}

int main(int argc, char** argv) {
  const char* m = argc > 1 ? argv[1] : "cond";
  mode = !strcmp(m, "cond") ? 0 : !strcmp(m, "yield") ? 1 : !strcmp(m, "sem") ? 2 : -1;
  n = argc > 2 ? atol(argv[2]) : 1000000;
  if (mode < 0 || n < 1) {
    fprintf(stderr, "usage: pingpong cond|yield|sem [ROUND_TRIPS>0]\n");
    return 2;
  }
  sem_init(&sem[0], 0, 1); /* A holds the token */
  sem_init(&sem[1], 0, 0);
  pthread_barrier_init(&start, NULL, 2);
  pthread_t a, b;
  if (pthread_create(&a, NULL, player, (void*)0L) || pthread_create(&b, NULL, player, (void*)1L)) {
    fprintf(stderr, "pingpong: pthread_create failed\n");
    return 1;
  }
  void *ra, *rb;
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  if (!ra || !rb || handovers[0] != n || handovers[1] != n || out_of_turn || turn != 0) {
    fprintf(stderr, "pingpong: hand-overs %ld/%ld (want %ld each), %ld out of turn, final turn %d\n",
            handovers[0], handovers[1], n, out_of_turn, turn);
    return 1;
  }
  printf("pingpong %s: %ld round trips = %ld switches\n", m, n, 2 * n);
  printf("RESULT name=pingpong_%s ns_per_op=%.1f ops=%ld\n", m, *(double*)ra / (2.0 * n), 2 * n);
  free(ra);
  free(rb);
  return 0;
}
