// threads N K: create N threads in waves of K that are all alive at once
// (they meet main at a rendezvous built from a mutex and a condition
// variable, the primitives every pthreads replacement has first), so the process peaks at exactly K + 1
// tasks (main included).  Between waves main waits until the kernel has
// reaped the previous wave (/proc/self/task back to its count before it): pthread_join
// returns when the tid is cleared, a little before the kernel's exit hook.
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int arrived, wave_no;

/* Wait until `n` callers of this wave have arrived (main included). */
static void rendezvous(int n)
{
	pthread_mutex_lock(&mu);
	int my_wave = wave_no;

	if (++arrived == n) {
		arrived = 0;
		wave_no++;
		pthread_cond_broadcast(&cv);
	}
	while (wave_no == my_wave)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static int wave_size;

static void *worker(void *arg)
{
	rendezvous(wave_size + 1);
	return arg;
}

static int tasks(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 4, k = argc > 2 ? atoi(argv[2]) : n;
	pthread_t *t;

	if (n < 1 || k < 1 || k > n) {
		fprintf(stderr, "usage: threads N K (1 <= K <= N)\n");
		return 2;
	}
	t = calloc(k, sizeof(*t));
	for (int done = 0, before = 0; done < n;) {
		int wave = n - done < k ? n - done : k;

		/* Under an M:N runtime the process keeps its own threads: wait
		 * only for the count from before the previous wave. */
		if (done)
			for (int i = 0; i < 20000 && tasks() > before; i++)
				nanosleep(&(struct timespec){ .tv_nsec = 100000 }, NULL);
		before = tasks();
		wave_size = wave;
		for (int i = 0; i < wave; i++)
			if (pthread_create(&t[i], NULL, worker, NULL)) {
				fprintf(stderr, "threads: pthread_create failed\n");
				return 1;
			}
		rendezvous(wave + 1);
		for (int i = 0; i < wave; i++)
			pthread_join(t[i], NULL);
		done += wave;
	}
	printf("threads: %d created, at most %d at once\n", n, k);
	return 0;
}
