/* stuck: a thread blocks inside the C library where no interposer can see
 * it: fgets on a pipe (stdio reads through glibc's internal read). Another
 * thread must keep running and is the one that, after counting for a while,
 * writes the line the reader waits for. With one P and no help from sysmon
 * the writer never runs again: a hang. Prints the counter and checks the
 * line arrived intact and the counter advanced while the reader was blocked. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static FILE* in;
static atomic_int reader_waiting;
static char line[64];

static void* reader(void* arg) {
  (void)arg;
  atomic_store(&reader_waiting, 1);
  if (!fgets(line, sizeof line, in)) line[0] = 0;
  return NULL;
}

int main(void) {
  int p[2];
  if (pipe(p)) return 1;
  in = fdopen(p[0], "r");
  pthread_t t;
  pthread_create(&t, NULL, reader, NULL);
  while (!atomic_load(&reader_waiting)) {
    struct timespec d = {0, 1000000};
    nanosleep(&d, NULL);
  }
  /* count for 300 ms of sleeps + work while the reader sits in fgets */
  unsigned long counter = 0;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    struct timespec d = {0, 2000000};
    nanosleep(&d, NULL);
    counter++;
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 < 300);
  const char* msg = "hello through stdio\n";
  if (write(p[1], msg, strlen(msg)) != (ssize_t)strlen(msg)) return 1;
  pthread_join(t, NULL);
  printf("stuck: counter %lu while the reader was in fgets; line %s", counter, line);
  if (strcmp(line, msg) != 0 || counter < 10) {
    fprintf(stderr, "stuck: FAILED (line '%s', counter %lu)\n", line, counter);
    return 1;
  }
  return 0;
}
