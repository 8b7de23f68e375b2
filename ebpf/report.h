/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* report.h: one measured run, and the writers that print it (report.c, svg.c). */
#ifndef GREENSTAT_REPORT_H
#define GREENSTAT_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/resource.h>
#include <linux/types.h>
#include "greenstat.h"

/* libgreen USDT probes, in core/probes.h order. */
enum probe { PR_G_CREATE, PR_G_EXIT, PR_M_CREATE, PR_HANDOFF, PR_STEAL, PR_PREEMPT,
	     PR_PARK, PR_READY, PR_COUNT };
enum probe_state { PROBE_OFF, PROBE_ABSENT, PROBE_ATTACHED };
extern const char *const probe_names[PR_COUNT];

struct point {
	__u64 t_ms;
	__s64 alive;
};

/* Threads alive over time; at most SERIES_MAX points: when full, every
 * other point is dropped and the sampling step doubles. */
#define SERIES_MAX 1024
struct series {
	struct point pts[SERIES_MAX];
	unsigned int n;
	unsigned int step_ms;
};

struct run {
	const char *mode;		/* "native", "libgreen", "plain" (or "pid") */
	bool has_status;		/* false for -p */
	int exit_status;		/* shell style: code, or 128 + signal */
	__u64 wall_ns;
	const char *hooks;		/* "tp_btf" or "raw_tp" */
	struct gs_kstats k;
	__u64 sc[GS_MAX_SYSCALLS];
	long peak_rss_kb;		/* -1: unknown */
	bool has_rusage;		/* wait4 of our own child */
	struct rusage ru;
	bool switch_ok;			/* BPF switches agree with rusage */
	__u64 switch_tol;
	const char *libgreen;		/* USDT target, NULL: no green stats */
	enum probe_state probe[PR_COUNT];
	struct gs_gstats g;
	struct series s;
};

void report_table(FILE *f, char *const *cmd, const struct run *runs, int nruns, int top);
void report_json(FILE *f, char *const *cmd, int pid, const struct run *runs, int nruns, int top);
/* 0 or -errno */
int svg_plot(const char *path, char *const *cmd, const struct run *runs, int nruns);

#endif /* GREENSTAT_REPORT_H */
