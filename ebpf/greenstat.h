/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * greenstat.h: what greenstat.bpf.c and greenstat.c share.
 *
 * Counters live in the BPF program's .bss, which user space reads through
 * the skeleton's memory mapping (no map syscalls in the sampling loop).
 * Every counter that several CPUs touch is updated with an atomic add;
 * peaks are raised with compare-and-swap, so they are exact, not sampled.
 */
#ifndef GREENSTAT_H
#define GREENSTAT_H

#define GS_MAX_SYSCALLS 512	/* x86-64 numbers are < 512; larger ones count as "other" */
#define GS_MAX_PROCS 4096	/* tracked thread groups (tgids) at once */
#define GS_MAX_THREADS 65536	/* tracked tasks alive at once */

/* Kernel-side view of the target tree: tasks, not green threads. */
struct gs_kstats {
	__s64 alive;		/* tracked tasks alive now (fork hook to exit hook) */
	__s64 peak;		/* max of alive, exact (CAS on every change) */
	__u64 created;		/* fork/clone of a tracked task (threads and processes), plus the target itself */
	__u64 exited;		/* sched_process_exit of a tracked task */
	__u64 seeded;		/* -p: threads that already existed when greenstat attached */
	__u64 vol_switches;	/* sched_switch: !preempt && prev_state != 0 (as ru_nvcsw) */
	__u64 invol_switches;	/* sched_switch otherwise (as ru_nivcsw) */
	__u64 dead_switches;	/* final switches of exiting non-leader threads (rusage has none) */
	__u64 cpu_ns;		/* sum of on-CPU intervals of tracked tasks */
	__u64 offcpu_ns;	/* sum of off-CPU intervals (runnable or blocked) */
	__u64 syscalls;		/* sys_enter of a tracked task, all numbers */
	__u64 syscalls_other;	/* numbers >= GS_MAX_SYSCALLS */
	__u64 dropped;		/* a map was full: counts are a lower bound */
	__u32 launched;		/* the launcher's child has been claimed */
	__u32 pad;
};

/* Green-thread view, from libgreen's USDT probes (core/probes.h). */
struct gs_gstats {
	__s64 live_gs;		/* g_create - g_exit */
	__s64 peak_gs;		/* exact max of live_gs */
	__u64 gs_created;
	__u64 gs_exited;
	__u64 ms_created;
	__u64 handoffs;
	__u64 steals;		/* steal events */
	__u64 stolen_gs;	/* sum of their count argument */
	__u64 preemptions;
	__u64 parks;
	__u64 readies;
};

/* Per tracked task (key: kernel pid of the task, i.e. its tid in the init namespace). */
struct gs_thread {
	__u64 on_ts;		/* last switch-in, 0 while off CPU */
	__u64 off_ts;		/* last switch-out (or birth), 0 while on CPU */
	__u32 exited;		/* passed sched_process_exit; the entry goes at its last switch */
	__u32 pad;
};

/* Per tracked thread group (key: tgid in the init namespace). */
struct gs_proc {
	__s64 nthreads;		/* tracked tasks of this group alive; the entry goes at 0 */
};

#endif /* GREENSTAT_H */
