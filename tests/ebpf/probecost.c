// probecost [CALLS]: the price of an unattached USDT probe.  Times CALLS
// calls of a function with a libgreen-style probe and of the same function
// without one; prints "probe_ns=... none_ns=..." per call.  Unattached, the
// probe is one nop, so the two should be equal within noise.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <time.h>

static volatile uint64_t sink;

__attribute__((noinline)) static void with_probe(uint64_t i)
{
	DTRACE_PROBE1(libgreen, ready, i);
	sink += i;
}

__attribute__((noinline)) static void without_probe(uint64_t i)
{
	sink += i;
}

static double per_call(void (*fn)(uint64_t), long n)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++)
		fn(i);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 50000000;
	double p, q;

	per_call(with_probe, n / 10);	/* warm up */
	p = per_call(with_probe, n);
	q = per_call(without_probe, n);
	printf("probe_ns=%.3f none_ns=%.3f\n", p, q);
	return 0;
}
