// createjoin [N] [ROUNDS]: create and join N threads, one at a time, ROUNDS
// times; prints the elapsed time of the loop alone ("elapsed_ns=...") so a
// benchmark can compare runs without counting the tracer's start-up.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void *worker(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000, rounds = argc > 2 ? atoi(argv[2]) : 1;
	struct timespec a, b;
	pthread_t t;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int r = 0; r < rounds; r++)
		for (int i = 0; i < n; i++) {
			if (pthread_create(&t, NULL, worker, NULL))
				return 1;
			pthread_join(t, NULL);
		}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("elapsed_ns=%lld\n",
	       (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
	return 0;
}
