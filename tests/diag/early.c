/* libearly.so: a library whose constructor starts a thread before main, so
 * before libgreen starts: an OS thread libgreen did not make. On request it
 * posts a semaphore after a delay (slow.c's "foreign" mode): until then
 * every thread libgreen knows is blocked, yet the program is not
 * deadlocked. */
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static sem_t* target;
static int delay_ms;

static void* helper(void* arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  while (!target) pthread_cond_wait(&cv, &m);
  pthread_mutex_unlock(&m);
  struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0) {
  }
  sem_post(target);
  return NULL;
}

__attribute__((constructor)) static void start_helper(void) {
  pthread_t t;
  pthread_create(&t, NULL, helper, NULL);
  pthread_detach(t);
}

void early_post_after(sem_t* s, int ms) {
  pthread_mutex_lock(&m);
  delay_ms = ms;
  target = s;
  pthread_cond_signal(&cv);
  pthread_mutex_unlock(&m);
}
