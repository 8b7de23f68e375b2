/* main calls pthread_exit while workers still run: they finish (each
 * writes its line) and the process exits 0 after the last one. */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void* worker(void* arg) {
  usleep(100000);
  printf("worker %ld done\n", (long)arg);
  fflush(stdout);
  return NULL;
}

int main(void) {
  for (long i = 0; i < 4; i++) {
    pthread_t t;
    pthread_create(&t, NULL, worker, (void*)i);
    pthread_detach(t);
  }
  printf("main exits\n");
  fflush(stdout);
  pthread_exit(NULL);
}
