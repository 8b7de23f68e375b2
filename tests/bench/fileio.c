/* fileio [THREADS [OPS [DIR]]]: file I/O in many threads at once. Each of
 * THREADS threads (default 16) owns a 1 MiB file in DIR (default $TMPDIR or
 * /tmp) and does OPS operations (default 8,000): a 4 KiB pread of a
 * pseudo-random block, and every 8th operation a pwrite of a new version of
 * that block followed by fsync. Every block read must hold the version last
 * written (checked, word by word). These are the calls libgreen cannot make
 * asynchronous: they run in syscall sections, and a blocked fsync costs a
 * P handoff by sysmon. Wall time per operation, all threads together:
 *   RESULT name=fileio ns_per_op=<ns> ops=<THREADS*OPS> fsyncs=<n> */
#include "common.h"

#include <fcntl.h>
#include <stdint.h>

#define BLOCK 4096
#define BLOCKS 256

static long ops;
static const char* dir;
static long fsyncs_done[1024];

static void fill(uint64_t* b, long tid, long blk, uint64_t version) {
  for (int i = 0; i < BLOCK / 8; i++) b[i] = ((uint64_t)tid << 48) | ((uint64_t)blk << 32) | (version << 8) | (uint64_t)(i & 255);
}

static void* worker(void* arg) {
  long tid = (long)arg;
  char path[4096];
  snprintf(path, sizeof path, "%s/green-fileio-%d-%ld", dir, getpid(), tid);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return (void*)"open";
  unlink(path);
  uint64_t buf[BLOCK / 8], want[BLOCK / 8];
  uint32_t version[BLOCKS] = {0};
  for (long b = 0; b < BLOCKS; b++) {
    fill(buf, tid, b, 0);
    if (pwrite(fd, buf, BLOCK, b * BLOCK) != BLOCK) return (void*)"pwrite";
  }
  uint64_t x = (uint64_t)tid * 7919 + 1;
  for (long i = 0; i < ops; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    long b = (long)((x >> 33) % BLOCKS);
    if (pread(fd, buf, BLOCK, b * BLOCK) != BLOCK) return (void*)"pread";
    fill(want, tid, b, version[b]);
    if (memcmp(buf, want, BLOCK)) return (void*)"wrong data";
    if (i % 8 == 7) {
      fill(buf, tid, b, ++version[b]);
      if (pwrite(fd, buf, BLOCK, b * BLOCK) != BLOCK) return (void*)"pwrite";
      if (fsync(fd)) return (void*)"fsync";
      fsyncs_done[tid]++;
    }
  }
  close(fd);
  return NULL;
}

int main(int argc, char** argv) {
  const char* usage = "fileio [THREADS 1..1024 [OPS>0 [DIR]]]";
  long n = arg_long(argc, argv, 1, 16, usage);
  ops = arg_long(argc, argv, 2, 8000, usage);
  dir = argc > 3 ? argv[3] : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
  if (n > 1024) DIE("usage: %s", usage);
  pthread_t t[1024];
  long long t0 = now_ns();
  for (long i = 0; i < n; i++)
    if (pthread_create(&t[i], NULL, worker, (void*)i)) DIE("fileio: pthread_create");
  long bad = 0, fsyncs = 0;
  for (long i = 0; i < n; i++) {
    void* r;
    pthread_join(t[i], &r);
    if (r) fprintf(stderr, "fileio: thread %ld: %s failed (%s)\n", i, (char*)r, strerror(errno));
    bad += r != NULL;
    fsyncs += fsyncs_done[i];
  }
  long long t1 = now_ns();
  if (bad || fsyncs != n * (ops / 8)) DIE("fileio: %ld threads failed, %ld fsyncs", bad, fsyncs);
  printf("fileio: %ld threads x %ld ops (%ld fsyncs) in %s\n", n, ops, fsyncs, dir);
  printf("RESULT name=fileio ns_per_op=%.1f ops=%ld fsyncs=%ld\n", (double)(t1 - t0) / (double)(n * ops), n * ops, fsyncs);
  return 0;
}
