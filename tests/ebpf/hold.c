// hold K M: make K threads that block, print "ready", read a line from
// stdin, then make M more threads that are all alive at once with the K,
// join everything and exit.  Traced with -p after "ready": K + 1 threads at
// attach, M created, exact peak K + M + 1.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_barrier_t late;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;

static void *blocker(void *arg)
{
	pthread_mutex_lock(&mu);
	while (!go)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	return arg;
}

static void *latecomer(void *arg)
{
	pthread_barrier_wait(&late);
	return arg;
}

int main(int argc, char **argv)
{
	int k = argc > 1 ? atoi(argv[1]) : 3, m = argc > 2 ? atoi(argv[2]) : 3;
	pthread_t *a = calloc(k + 1, sizeof(*a)), *b = calloc(m + 1, sizeof(*b));
	char line[64];

	for (int i = 0; i < k; i++)
		pthread_create(&a[i], NULL, blocker, NULL);
	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 1;
	pthread_barrier_init(&late, NULL, m + 1);
	for (int i = 0; i < m; i++)
		pthread_create(&b[i], NULL, latecomer, NULL);
	pthread_barrier_wait(&late);
	for (int i = 0; i < m; i++)
		pthread_join(b[i], NULL);
	pthread_mutex_lock(&mu);
	go = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < k; i++)
		pthread_join(a[i], NULL);
	return 0;
}
