// libgreen_fake.so: a stand-in for libgreen that fires some of its USDT
// probes (provider "libgreen", same names and arguments as core/probes.h)
// so greenstat's attach path is tested without the real runtime:
//   load time:       m_create(0, tid) once, steal(0, 1, 2) three times
//   pthread_create:  g_create(id, 0); the thread's return: g_exit(id)
// handoff, preempt, park and ready are deliberately absent: greenstat must
// report them as n/a, not 0.  Threads are still real kernel threads.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <unistd.h>

struct start {
	void *(*fn)(void *);
	void *arg;
	uint64_t id;
};

static uint64_t next_id;

__attribute__((constructor)) static void fake_init(void)
{
	uint32_t tid = gettid();

	DTRACE_PROBE2(libgreen, m_create, 0, tid);
	for (int i = 0; i < 3; i++)
		DTRACE_PROBE3(libgreen, steal, 0, 1, 2);
}

static void *trampoline(void *p)
{
	struct start s = *(struct start *)p;
	void *ret;

	free(p);
	ret = s.fn(s.arg);
	DTRACE_PROBE1(libgreen, g_exit, s.id);
	return ret;
}

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	static int (*real)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
	struct start *s = malloc(sizeof(*s));

	if (!real)
		real = dlsym(RTLD_NEXT, "pthread_create");
	if (!s)
		return 11;
	s->fn = fn;
	s->arg = arg;
	s->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	DTRACE_PROBE2(libgreen, g_create, s->id, 0);
	return real(t, attr, trampoline, s);
}
