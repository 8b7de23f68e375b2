// forker [exec PROG ARGS...]: main makes 2 threads, then forks a child that
// makes 3 threads (or, with "exec", execs PROG), and waits for it.
// Plain run: 1 + 2 + 1 + 3 = 7 tasks created in the tree.
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *worker(void *arg)
{
	return arg;
}

static void spawn_join(int n)
{
	pthread_t t[8];

	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, worker, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
}

int main(int argc, char **argv)
{
	int status;
	pid_t pid;

	spawn_join(2);
	pid = fork();
	if (pid == 0) {
		if (argc > 2 && !strcmp(argv[1], "exec")) {
			execv(argv[2], argv + 2);
			perror("forker: exec");
			_exit(127);
		}
		spawn_join(3);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
