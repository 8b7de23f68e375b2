// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * greenstat.bpf.c: count what the kernel sees of one process tree.
 *
 * The tree is the set of thread groups in `procs`.  It grows on
 * sched_process_fork when the parent's group is tracked (a new thread joins
 * its group, a new process adds its tgid), and starts either from
 * greenstat's own fork of the command (launcher_tgid: the child is tracked
 * from its first instruction, so its rusage and our counts cover the same
 * life) or from tids that user space inserts for -p.  Every key is a kernel
 * id in the init pid namespace (task->pid, task->tgid), so a target that
 * makes its own pid namespace is followed like any other.
 *
 * Each scheduler hook exists twice, tp_btf (preferred) and raw_tp
 * (fallback); user space autoloads one set.  Both read task fields with
 * BPF_CORE_READ so one body serves both.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/usdt.bpf.h>
#include "greenstat.h"

#define TASK_DEAD 0x80	/* include/linux/sched.h: a task's state in its last __schedule() */

const volatile __u32 launcher_tgid = 0;	/* command mode: greenstat's own tgid */
const volatile __u32 pid_tgid = 0;	/* -p: its group is seeded by user space, never dropped */

struct gs_kstats kstats = {};
struct gs_gstats gstats = {};
__u64 syscall_counts[GS_MAX_SYSCALLS] = {};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GS_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct gs_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GS_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct gs_thread);
} threads SEC(".maps");

/* Raise *peak to v unless it is already >= v.  A failed CAS means another
 * CPU raised it meanwhile; the bound only satisfies the verifier. */
static __always_inline void peak_raise(__s64 *peak, __s64 v)
{
	for (int i = 0; i < 64; i++) {
		__s64 old = *(volatile __s64 *)peak;

		if (v <= old || __sync_val_compare_and_swap(peak, old, v) == old)
			return;
	}
}

static __always_inline int handle_fork(struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 cpid = BPF_CORE_READ(child, pid);
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	struct gs_thread t = { .off_ts = bpf_ktime_get_ns() };
	struct gs_proc zero = {}, *p;

	if (!bpf_map_lookup_elem(&procs, &ptgid)) {
		if (!launcher_tgid || ptgid != launcher_tgid || cpid != ctgid)
			return 0;
		if (__sync_val_compare_and_swap(&kstats.launched, 0, 1) != 0)
			return 0;
	}
	if (ctgid != ptgid)
		bpf_map_update_elem(&procs, &ctgid, &zero, BPF_NOEXIST);
	p = bpf_map_lookup_elem(&procs, &ctgid);
	if (!p || bpf_map_update_elem(&threads, &cpid, &t, BPF_NOEXIST)) {
		__sync_fetch_and_add(&kstats.dropped, 1);
		return 0;
	}
	__sync_fetch_and_add(&p->nthreads, 1);
	__sync_fetch_and_add(&kstats.created, 1);
	peak_raise(&kstats.peak, __sync_add_and_fetch(&kstats.alive, 1));
	return 0;
}

/* Count a tracked task as gone; the first caller (exit hook, or a final
 * switch that somehow came first) owns it. */
static __always_inline void thread_gone(struct gs_thread *t, __u32 tgid)
{
	struct gs_proc *p;

	if (__sync_val_compare_and_swap(&t->exited, 0, 1) != 0)
		return;
	__sync_fetch_and_add(&kstats.exited, 1);
	__sync_fetch_and_add(&kstats.alive, -1);
	p = bpf_map_lookup_elem(&procs, &tgid);
	/* The last task of a group takes its tgid out (pids get reused). */
	if (p && __sync_add_and_fetch(&p->nthreads, -1) <= 0 && tgid != pid_tgid)
		bpf_map_delete_elem(&procs, &tgid);
}

/* The task stops being alive here, but its entry stays until its last
 * switch: do_exit still runs (exit_mm, exit_files, ...) and may block, and
 * rusage counts those switches. */
static __always_inline int handle_exit(struct task_struct *task)
{
	__u32 pid = BPF_CORE_READ(task, pid);
	struct gs_thread *t = bpf_map_lookup_elem(&threads, &pid);

	if (t)
		thread_gone(t, BPF_CORE_READ(task, tgid));
	return 0;
}

/* A non-leader thread that execs takes over the leader's pid (de_thread):
 * move its entry so its later switches and exit are found. */
static __always_inline int handle_exec(struct task_struct *task, __u32 old_pid)
{
	__u32 pid = BPF_CORE_READ(task, pid);
	struct gs_thread *t;

	if (pid == old_pid)
		return 0;
	t = bpf_map_lookup_elem(&threads, &old_pid);
	if (!t)
		return 0;
	bpf_map_update_elem(&threads, &pid, t, BPF_ANY);
	bpf_map_delete_elem(&threads, &old_pid);
	return 0;
}

static __always_inline int handle_switch(bool preempt, struct task_struct *prev,
					 struct task_struct *next, unsigned int prev_state)
{
	__u32 prev_pid = BPF_CORE_READ(prev, pid);
	__u32 next_pid = BPF_CORE_READ(next, pid);
	__u32 prev_tgid = BPF_CORE_READ(prev, tgid);
	struct gs_thread *t;
	__u64 now;

	t = bpf_map_lookup_elem(&threads, &prev_pid);
	if (t) {
		now = bpf_ktime_get_ns();
		if (t->on_ts)
			__sync_fetch_and_add(&kstats.cpu_ns, now - t->on_ts);
		t->on_ts = 0;
		t->off_ts = now;
		/* Same rule as __schedule() for ru_nvcsw/ru_nivcsw, except a
		 * thread's very last switch: release_task() folded its counts
		 * into the group's before it, so rusage never has it (a group
		 * leader stays a zombie until wait4, and its last one counts). */
		if ((prev_state & TASK_DEAD) && prev_pid != prev_tgid)
			__sync_fetch_and_add(&kstats.dead_switches, 1);
		else if (!preempt && prev_state)
			__sync_fetch_and_add(&kstats.vol_switches, 1);
		else
			__sync_fetch_and_add(&kstats.invol_switches, 1);
		if (prev_state & TASK_DEAD) {
			thread_gone(t, prev_tgid);
			bpf_map_delete_elem(&threads, &prev_pid);
		}
	}
	t = bpf_map_lookup_elem(&threads, &next_pid);
	if (t) {
		now = bpf_ktime_get_ns();
		if (t->off_ts)
			__sync_fetch_and_add(&kstats.offcpu_ns, now - t->off_ts);
		t->off_ts = 0;
		t->on_ts = now;
	}
	return 0;
}

static __always_inline int handle_sys_enter(long id)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (!bpf_map_lookup_elem(&procs, &tgid))
		return 0;
	__sync_fetch_and_add(&kstats.syscalls, 1);
	if ((unsigned long)id >= GS_MAX_SYSCALLS) {
		__sync_fetch_and_add(&kstats.syscalls_other, 1);
		return 0;
	}
	/* Hide the value from clang so the mask survives and bounds the index
	 * for the verifier (GS_MAX_SYSCALLS is a power of 2). */
	asm volatile("" : "+r"(id));
	__sync_fetch_and_add(&syscall_counts[id & (GS_MAX_SYSCALLS - 1)], 1);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_btf, struct task_struct *parent, struct task_struct *child)
{
	return handle_fork(parent, child);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return handle_fork(parent, child);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *task)
{
	return handle_exit(task);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *task)
{
	return handle_exit(task);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *task, pid_t old_pid)
{
	return handle_exec(task, old_pid);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_raw, struct task_struct *task, pid_t old_pid)
{
	return handle_exec(task, old_pid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(switch_btf, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	return handle_switch(preempt, prev, next, prev_state);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(switch_raw, bool preempt, struct task_struct *prev, struct task_struct *next,
	     unsigned int prev_state)
{
	return handle_switch(preempt, prev, next, prev_state);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter_btf, struct pt_regs *regs, long id)
{
	return handle_sys_enter(id);
}

SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter_raw, struct pt_regs *regs, long id)
{
	return handle_sys_enter(id);
}

/* ---- libgreen USDT probes (provider "libgreen", see core/probes.h) ---- */

static __always_inline bool in_tree(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	return bpf_map_lookup_elem(&procs, &tgid) != NULL;
}

SEC("usdt")
int BPF_USDT(g_create, __u64 gid, __u64 parent_gid)
{
	if (!in_tree())
		return 0;
	__sync_fetch_and_add(&gstats.gs_created, 1);
	peak_raise(&gstats.peak_gs, __sync_add_and_fetch(&gstats.live_gs, 1));
	return 0;
}

SEC("usdt")
int BPF_USDT(g_exit, __u64 gid)
{
	if (!in_tree())
		return 0;
	__sync_fetch_and_add(&gstats.gs_exited, 1);
	__sync_fetch_and_add(&gstats.live_gs, -1);
	return 0;
}

SEC("usdt")
int BPF_USDT(m_create, __u32 m_id, __u32 tid)
{
	if (in_tree())
		__sync_fetch_and_add(&gstats.ms_created, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(handoff, __u32 p_id, __u64 gid)
{
	if (in_tree())
		__sync_fetch_and_add(&gstats.handoffs, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(steal, __u32 thief_p, __u32 victim_p, __u32 count)
{
	if (!in_tree())
		return 0;
	__sync_fetch_and_add(&gstats.steals, 1);
	__sync_fetch_and_add(&gstats.stolen_gs, count);
	return 0;
}

SEC("usdt")
int BPF_USDT(preempt, __u64 gid)
{
	if (in_tree())
		__sync_fetch_and_add(&gstats.preemptions, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(park, __u64 gid, __u64 addr)
{
	if (in_tree())
		__sync_fetch_and_add(&gstats.parks, 1);
	return 0;
}

SEC("usdt")
int BPF_USDT(ready, __u64 gid)
{
	if (in_tree())
		__sync_fetch_and_add(&gstats.readies, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
