/* sleeping [N [SECONDS]]: N threads (default 100,000), created with the
 * default attributes as a legacy program would, all sleeping at once until
 * one absolute deadline SECONDS (default 3) after start (clock_nanosleep,
 * TIMER_ABSTIME), then joined.
 *
 * Once every thread has reported in and none has woken yet (checked: the
 * figures are taken while all N sleep), it measures per thread:
 *   rss_b      VmRSS growth (user memory touched: stacks, TCBs, runtime)
 *   pte_b      VmPTE growth (this process's page tables)
 *   kernel_b   KernelStack + Slab growth in /proc/meminfo (system-wide:
 *              noisy while others use the machine)
 *   total_b    the three together
 *   stack_b    resident bytes of the stack range pthread_getattr_np gives
 *              (mincore), averaged over every 1,000th thread
 * and prints the VMAs holding most of the growth (by size class), so one
 * can see where the memory goes. Then wall time: create_s (all N created
 * and asleep), wake_s (deadline to the last join), wall_s (whole run).
 *   RESULT name=sleeping threads=N ... wall_s=... failed=0|1
 * If pthread_create fails (natively: kernel.pid_max, vm.max_map_count),
 * the threads made so far are measured and joined, the line says
 * failed=1 with the error, and the exit status is 3. Exit 1 if a sleep
 * returned early or a thread woke before all were asleep. */
#include "common.h"

#include <stdatomic.h>
#include <sys/mman.h>

#define SAMPLE_EVERY 1000

static struct timespec deadline;
static atomic_long arrived, woken, early;
static void** sample_lo;
static size_t* sample_len;

static void* sleeper(void* arg) {
  long i = (long)arg;
  if (i % SAMPLE_EVERY == 0) {
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
      pthread_attr_getstack(&a, &sample_lo[i / SAMPLE_EVERY], &sample_len[i / SAMPLE_EVERY]);
      pthread_attr_destroy(&a);
    }
  }
  atomic_fetch_add(&arrived, 1);
  int e;
  while ((e = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, NULL)) == EINTR) {}
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  if (e || t.tv_sec < deadline.tv_sec || (t.tv_sec == deadline.tv_sec && t.tv_nsec < deadline.tv_nsec))
    atomic_fetch_add(&early, 1);
  atomic_fetch_add(&woken, 1);
  return arg;
}

struct mem {
  long long rss, pte, kernel;
};

static struct mem mem_now(void) {
  struct mem m;
  m.rss = proc_kb_field("/proc/self/status", "VmRSS");
  m.pte = proc_kb_field("/proc/self/status", "VmPTE");
  m.kernel = proc_kb_field("/proc/meminfo", "KernelStack") + proc_kb_field("/proc/meminfo", "Slab");
  return m;
}

/* Rss of this process's VMAs, grouped by VMA size; prints the biggest. */
struct vclass {
  long long size, rss;
  long count;
  char name[40];
};
static int by_rss(const void* a, const void* b) {
  long long x = ((const struct vclass*)a)->rss, y = ((const struct vclass*)b)->rss;
  return (y > x) - (y < x);
}
static void vma_report(long threads) {
  enum { MAXC = 4096 };
  static struct vclass c[MAXC];
  int nc = 0;
  FILE* f = fopen("/proc/self/smaps", "r");
  char line[512];
  long long size = 0;
  char name[40] = "";
  while (f && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char path[256] = "";
    if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &lo, &hi, path) >= 2) {
      size = (long long)(hi - lo);
      snprintf(name, sizeof name, "%s", path[0] ? strrchr(path, '/') ? strrchr(path, '/') + 1 : path : "anon");
      continue;
    }
    long long kb;
    if (sscanf(line, "Rss: %lld kB", &kb) != 1) continue;
    int i;
    for (i = 0; i < nc; i++)
      if (c[i].size == size && !strcmp(c[i].name, name)) break;
    if (i == nc) {
      if (nc == MAXC) continue;
      c[nc].size = size;
      c[nc].rss = 0;
      c[nc].count = 0;
      snprintf(c[nc].name, sizeof c[nc].name, "%s", name);
      nc++;
    }
    c[i].rss += kb * 1024;
    c[i].count++;
  }
  if (f) fclose(f);
  qsort(c, (size_t)nc, sizeof *c, by_rss);
  for (int i = 0; i < nc && i < 5; i++)
    printf("VMAS size_kib=%lld count=%ld rss_kib=%lld per_thread_b=%.0f name=%s\n", c[i].size / 1024,
           c[i].count, c[i].rss / 1024, (double)c[i].rss / (double)threads, c[i].name);
}

/* average resident bytes of the sampled threads' stack ranges */
static double stack_resident(long made) {
  long pages = 0, samples = 0;
  long pg = sysconf(_SC_PAGESIZE);
  for (long s = 0; s * SAMPLE_EVERY < made; s++) {
    if (!sample_lo[s]) continue;
    unsigned long lo = (unsigned long)sample_lo[s] & ~(unsigned long)(pg - 1);
    unsigned long hi = (unsigned long)sample_lo[s] + sample_len[s];
    size_t np = (hi - lo + (unsigned long)pg - 1) / (unsigned long)pg;
    unsigned char* v = malloc(np);
    if (v && mincore((void*)lo, hi - lo, v) == 0) {
      for (size_t k = 0; k < np; k++) pages += v[k] & 1;
      samples++;
    }
    free(v);
  }
  return samples ? (double)pages * (double)pg / (double)samples : -1;
}

int main(int argc, char** argv) {
  const char* usage = "sleeping [THREADS>0 [SECONDS>0]]";
  long n = arg_long(argc, argv, 1, 100000, usage);
  long secs = arg_long(argc, argv, 2, 3, usage);
  pthread_t* t = malloc(sizeof *t * (size_t)n);
  sample_lo = calloc((size_t)(n / SAMPLE_EVERY + 1), sizeof *sample_lo);
  sample_len = calloc((size_t)(n / SAMPLE_EVERY + 1), sizeof *sample_len);
  if (!t || !sample_lo || !sample_len) DIE("sleeping: no memory for %ld threads", n);
  memset(t, 0, sizeof *t * (size_t)n); /* touched now, not counted below */

  struct mem before = mem_now();
  long long t0 = now_ns();
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += secs;
  long made = 0;
  int err = 0;
  for (; made < n; made++)
    if ((err = pthread_create(&t[made], NULL, sleeper, (void*)made))) break;
  if (err) fprintf(stderr, "sleeping: pthread_create failed after %ld threads: %s\n", made, strerror(err));
  while (atomic_load(&arrived) < made) usleep(1000);
  long long t_all = now_ns();
  struct mem after = mem_now();
  int kthreads = (int)proc_field("/proc/self/status", "Threads");
  long woke_before = atomic_load(&woken);
  double stack_b = stack_resident(made);
  printf("sleeping: %ld threads asleep at once after %.3f s; kernel threads %d\n", made,
         (t_all - t0) / 1e9, kthreads);
  vma_report(made);

  long bad = 0;
  for (long i = 0; i < made; i++) {
    void* r;
    if (pthread_join(t[i], &r) || (long)r != i) bad++;
  }
  long long t_end = now_ns();
  long long dl = (long long)deadline.tv_sec * 1000000000LL + deadline.tv_nsec;
  if (woke_before) {
    fprintf(stderr, "sleeping: %ld threads had woken before all %ld were asleep: raise SECONDS\n",
            woke_before, made);
    return 1;
  }
  if (atomic_load(&early) || bad) {
    fprintf(stderr, "sleeping: %ld sleeps returned early, %ld bad joins\n", atomic_load(&early), bad);
    return 1;
  }
  double m = (double)made;
  double rss = (after.rss - before.rss) / m, pte = (after.pte - before.pte) / m;
  double kern = (after.kernel - before.kernel) / m;
  printf("RESULT name=sleeping threads=%ld total_b=%.0f rss_b=%.0f pte_b=%.0f kernel_b=%.0f stack_b=%.0f "
         "kthreads=%d create_s=%.3f wake_s=%.3f wall_s=%.3f failed=%d\n",
         made, rss + pte + kern, rss, pte, kern, stack_b, kthreads, (t_all - t0) / 1e9,
         (t_end - dl) / 1e9, (t_end - t0) / 1e9, err != 0);
  if (err) printf("FAILED_AT %ld %s\n", made, strerror(err));
  return err ? 3 : 0;
}
