// switches [N] [orphan]: N short sleeps in main and in a thread (voluntary
// context switches).  With "orphan", a forked child does the sleeping and
// the parent exits WITHOUT waiting for it, so wait4's rusage cannot include
// the child's switches: greenstat must warn that BPF and rusage disagree.
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int n = 200;

static void *naps(void *arg)
{
	for (int i = 0; i < n; i++)
		nanosleep(&(struct timespec){ .tv_nsec = 50000 }, NULL);
	return arg;
}

int main(int argc, char **argv)
{
	pthread_t t;
	int p[2];
	char c;

	if (argc > 1)
		n = atoi(argv[1]);
	if (argc > 2 && !strcmp(argv[2], "orphan")) {
		if (pipe(p))
			return 1;
		if (fork() == 0) {
			naps(NULL);
			if (write(p[1], "x", 1) != 1)
				_exit(1);
			_exit(0);
		}
		return read(p[0], &c, 1) == 1 ? 0 : 1;	/* no wait(): on purpose */
	}
	pthread_create(&t, NULL, naps, NULL);
	naps(NULL);
	pthread_join(t, NULL);
	return 0;
}
