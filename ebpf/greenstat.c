// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * greenstat: what the kernel (and libgreen's USDT probes) see of a program.
 *
 *   greenstat -- CMD ARGS            one run
 *   greenstat --compare -- CMD ARGS  natively, then under LD_PRELOAD=libgreen.so
 *   greenstat -p PID                 an existing process, until it exits (or -d)
 *
 * Starting a command without missing its first thread: the BPF programs are
 * loaded and attached first, with our own tgid in .rodata; the fork hook
 * tracks the one child we then fork, from its first instruction.  The child
 * blocks on a pipe until the USDT probes are attached to it, then execs.
 * Its wait4 rusage therefore covers the same life as our counters, which is
 * what the context-switch cross-check relies on.
 */
#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <linux/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "greenstat.h"
#include "greenstat.skel.h"
#include "report.h"

#define EXIT_NOTFOUND 127
#define EXIT_NOEXEC 126

static struct env {
	bool verbose;
	bool json;
	bool compare;
	bool park;
	int duration_s;		/* 0: until the command (or -p process) ends */
	int interval_ms;	/* 0: no live lines */
	int top;
	const char *plot;
	const char *libgreen;
	pid_t pid;
	char **cmd;
} env = { .top = 10 };

const char *argp_program_version = "greenstat 1.0";
const char *argp_program_bug_address = "libgreen issue tracker";
static const char argp_doc[] =
	"Count threads, context switches, CPU and syscalls of a process tree from the\n"
	"kernel's side (eBPF), and libgreen's green threads from its USDT probes.\n"
	"\n"
	"USAGE: greenstat [-v] [-d SECONDS] [-i INTERVAL_MS] [--json] [--plot FILE.svg]\n"
	"                 [--top N] [--park] [--libgreen PATH]\n"
	"                 (-p PID | [--compare] -- CMD [ARGS...])\n"
	"\n"
	"EXAMPLES:\n"
	"    greenstat -- ./app            # one run: threads, switches, syscalls\n"
	"    greenstat --compare -- ./app  # native, then under libgreen, ratios\n"
	"    greenstat --json -- ./app     # JSON (schema in ebpf/README.md)\n"
	"    greenstat --compare --plot alive.svg -- ./app   # threads alive over time\n"
	"    greenstat --libgreen build/libgreen.so --park -- ./app  # one libgreen run\n"
	"    greenstat -p 1234 -d 5        # an existing process, for 5 seconds\n"
	"    greenstat -i 100 -- ./app     # a line every 100 ms\n"
	"\n"
	"Environment: GREENSTAT_LIBGREEN (library for --compare), GREENSTAT_BTF (BTF\n"
	"file to use instead of /sys/kernel/btf/vmlinux), GREENSTAT_RAW_TP=1 (use\n"
	"raw_tp instead of tp_btf hooks).\n";

enum { OPT_JSON = 256, OPT_PLOT, OPT_TOP, OPT_PARK, OPT_LIBGREEN, OPT_COMPARE };

static const struct argp_option opts[] = {
	{ "verbose", 'v', NULL, 0, "Show libbpf's log and attach details", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stop after SECONDS (a command gets SIGTERM)", 0 },
	{ "interval", 'i', "MS", 0, "Print a line of counts every MS milliseconds", 0 },
	{ "pid", 'p', "PID", 0, "Trace an existing process (and what it forks)", 0 },
	{ "json", OPT_JSON, NULL, 0, "Print JSON instead of a table", 0 },
	{ "plot", OPT_PLOT, "FILE.svg", 0, "Write threads alive over time as an SVG chart", 0 },
	{ "top", OPT_TOP, "N", 0, "Show the N most frequent syscalls (default 10)", 0 },
	{ "park", OPT_PARK, NULL, 0, "Also count park/ready probes (~600 ns a hit)", 0 },
	{ "libgreen", OPT_LIBGREEN, "PATH", 0,
	  "libgreen.so to preload (one libgreen run, or the --compare library)", 0 },
	{ "compare", OPT_COMPARE, NULL, 0, "Run CMD natively, then under libgreen", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

static long parse_num(const char *arg, long min, long max, struct argp_state *state,
		      const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		argp_error(state, "invalid %s: %s (expected %ld..%ld)", what, arg, min, max);
	return v;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case 'v':
		env.verbose = true;
		break;
	case 'd':
		env.duration_s = parse_num(arg, 1, 86400 * 365, state, "duration");
		break;
	case 'i':
		env.interval_ms = parse_num(arg, 1, 3600000, state, "interval");
		break;
	case 'p':
		env.pid = parse_num(arg, 1, INT_MAX, state, "pid");
		break;
	case OPT_JSON:
		env.json = true;
		break;
	case OPT_PLOT:
		env.plot = arg;
		break;
	case OPT_TOP:
		env.top = parse_num(arg, 0, GS_MAX_SYSCALLS, state, "top");
		break;
	case OPT_PARK:
		env.park = true;
		break;
	case OPT_LIBGREEN:
		env.libgreen = arg;
		break;
	case OPT_COMPARE:
		env.compare = true;
		break;
	case ARGP_KEY_ARG:
		/* The first non-option starts the command: the rest is its own. */
		env.cmd = &state->argv[state->next - 1];
		state->next = state->argc;
		break;
	case ARGP_KEY_END:
		if (!env.pid == !env.cmd)
			argp_error(state, "give either -p PID or a command after --");
		if (env.pid && env.compare)
			argp_error(state, "--compare runs a command: it cannot be used with -p");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int libbpf_print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG || !env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static volatile sig_atomic_t stop_signal;

static void sig_handler(int sig)
{
	stop_signal = sig;
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- preflight checks ----------------------------------------------------- */

static int check_privileges(const char *argv0)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};
	bool admin, bpf, perfmon;

#define HAS_CAP(c) (data[(c) / 32].effective & (1u << ((c) % 32)))
	if (syscall(SYS_capget, &hdr, data)) {
		fprintf(stderr, "greenstat: capget: %s\n", strerror(errno));
		return -1;
	}
	admin = HAS_CAP(CAP_SYS_ADMIN);
	bpf = HAS_CAP(CAP_BPF);
	perfmon = HAS_CAP(CAP_PERFMON);
#undef HAS_CAP
	if (admin || (bpf && perfmon))
		return 0;
	fprintf(stderr,
		"greenstat: permission denied: missing %s%s%s (loading tracing BPF programs needs\n"
		"  CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN). Run it as root, e.g.:\n"
		"    sudo %s ...\n"
		"  or grant the capabilities: sudo setcap cap_bpf,cap_perfmon+ep %s\n",
		bpf ? "" : "CAP_BPF", !bpf && !perfmon ? " and " : "", perfmon ? "" : "CAP_PERFMON",
		argv0, argv0);
	return -1;
}

static const char *btf_custom_path;	/* GREENSTAT_BTF, NULL: the kernel's own */
static bool use_tp_btf;

/* Can a BPF_TRACE_RAW_TP (tp_btf) program attach to sched_switch here? */
static bool probe_tp_btf(int btf_id)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_RAW_TP,
		    .attach_btf_id = btf_id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", insns, 2, &o);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int check_btf(void)
{
	const char *path = getenv("GREENSTAT_BTF");
	struct btf *btf;
	int id;

	if (path && *path)
		btf_custom_path = path;
	btf = btf_custom_path ? btf__parse(btf_custom_path, NULL) : btf__load_vmlinux_btf();
	if (!btf) {
		fprintf(stderr,
			"greenstat: no kernel BTF (%s: %s)\n"
			"  greenstat is CO-RE: it needs a kernel built with CONFIG_DEBUG_INFO_BTF=y\n"
			"  (or a BTF file for this kernel named in GREENSTAT_BTF)\n",
			btf_custom_path ? btf_custom_path : "/sys/kernel/btf/vmlinux",
			strerror(errno));
		return -1;
	}
	id = btf__find_by_name_kind(btf, "btf_trace_sched_switch", BTF_KIND_TYPEDEF);
	btf__free(btf);
	/* A BTF file of our own says nothing about the running kernel's ids. */
	use_tp_btf = id > 0 && !btf_custom_path && !getenv("GREENSTAT_RAW_TP") &&
		     probe_tp_btf(id);
	return 0;
}

/* execvp's search, done up front so a missing command is an error before any
 * BPF work.  Returns a malloc'ed path or NULL with errno set. */
static char *resolve_command(const char *name)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	int err = ENOENT;

	if (strchr(name, '/')) {
		if (access(name, X_OK))
			return NULL;
		return strdup(name);
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		struct stat st;

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? path : ".", name);
		if (!stat(buf, &st) && S_ISREG(st.st_mode)) {
			if (!access(buf, X_OK))
				return strdup(buf);
			err = EACCES;
		}
		path += len + (path[len] == ':');
	}
	errno = err;
	return NULL;
}

/* 1: dynamically linked ELF (has PT_INTERP), 0: static ELF, -1: not ELF (a
 * script: its interpreter is what gets preloaded). */
static int elf_is_dynamic(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ret = -1;
	size_t n, i;
	Elf *elf;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (elf && elf_kind(elf) == ELF_K_ELF && !elf_getphdrnum(elf, &n)) {
		ret = 0;
		for (i = 0; i < n; i++) {
			GElf_Phdr ph;

			if (gelf_getphdr(elf, i, &ph) && ph.p_type == PT_INTERP)
				ret = 1;
		}
	}
	elf_end(elf);
	close(fd);
	return ret;
}

/* --compare's library: --libgreen, GREENSTAT_LIBGREEN, else ../libgreen.so
 * next to this binary (build/ebpf/greenstat -> build/libgreen.so). */
static char *find_libgreen(void)
{
	const char *p = env.libgreen ? env.libgreen : getenv("GREENSTAT_LIBGREEN");
	char self[PATH_MAX], buf[PATH_MAX + 32], *res;
	ssize_t n;

	if (!p || !*p) {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0)
			return NULL;
		self[n] = 0;
		snprintf(buf, sizeof(buf), "%s/../libgreen.so", dirname(self));
		p = buf;
	}
	res = realpath(p, NULL);
	if (!res || access(res, R_OK)) {
		fprintf(stderr,
			"greenstat: libgreen not found at %s: build it (make) or pass --libgreen PATH\n",
			p);
		free(res);
		return NULL;
	}
	return res;
}

/* A libgreen named in LD_PRELOAD, for a plain run's USDT probes. */
static char *libgreen_in_preload(const char *preload)
{
	char *copy, *tok, *save = NULL, *res = NULL;

	if (!preload)
		return NULL;
	copy = strdup(preload);
	for (tok = strtok_r(copy, ": ", &save); tok && !res; tok = strtok_r(NULL, ": ", &save)) {
		const char *base = strrchr(tok, '/') ? strrchr(tok, '/') + 1 : tok;

		if (!strncmp(base, "libgreen", 8) && strstr(base, ".so"))
			res = realpath(tok, NULL);
	}
	free(copy);
	return res;
}

/* ---- BPF lifecycle -------------------------------------------------------- */

const char *const probe_names[PR_COUNT] = {
	"g_create", "g_exit", "m_create", "handoff", "steal", "preempt", "park", "ready",
};

struct tracer {
	struct greenstat_bpf *skel;
	struct bpf_link *klinks[5];
	struct bpf_link *ulinks[PR_COUNT];
};

static void tracer_close(struct tracer *t)
{
	for (int i = 0; i < PR_COUNT; i++)
		bpf_link__destroy(t->ulinks[i]);
	for (int i = 0; i < 5; i++)
		bpf_link__destroy(t->klinks[i]);
	greenstat_bpf__destroy(t->skel);
	memset(t, 0, sizeof(*t));
}

/* open -> set rodata -> load -> attach the scheduler/syscall hooks. */
static int tracer_open(struct tracer *t, __u32 launcher, __u32 pinned)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_custom_path);
	struct greenstat_bpf *s;
	int err;

	s = t->skel = greenstat_bpf__open_opts(&oo);
	if (!s) {
		fprintf(stderr, "greenstat: cannot open the BPF object: %s\n", strerror(errno));
		return -1;
	}
	s->rodata->launcher_tgid = launcher;
	s->rodata->pid_tgid = pinned;

	struct bpf_program *btf_progs[] = { s->progs.fork_btf, s->progs.exit_btf,
					    s->progs.exec_btf, s->progs.switch_btf,
					    s->progs.sys_enter_btf };
	struct bpf_program *raw_progs[] = { s->progs.fork_raw, s->progs.exit_raw,
					    s->progs.exec_raw, s->progs.switch_raw,
					    s->progs.sys_enter_raw };
	for (int i = 0; i < 5; i++) {
		bpf_program__set_autoload(btf_progs[i], use_tp_btf);
		bpf_program__set_autoload(raw_progs[i], !use_tp_btf);
	}
	err = greenstat_bpf__load(s);
	if (err) {
		fprintf(stderr, "greenstat: cannot load the BPF programs: %s%s\n", strerror(-err),
			env.verbose ? "" : " (run with -v for the verifier's log)");
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		struct bpf_program *p = use_tp_btf ? btf_progs[i] : raw_progs[i];

		t->klinks[i] = bpf_program__attach(p);
		if (!t->klinks[i]) {
			fprintf(stderr, "greenstat: cannot attach %s: %s\n",
				bpf_program__section_name(p), strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Attach libgreen's probes for one process; a probe the library does not
 * have is reported as n/a, not 0.  park/ready cost a uprobe hit each: only
 * with --park. */
static void tracer_attach_usdt(struct tracer *t, struct run *r, pid_t pid, const char *lib)
{
	struct greenstat_bpf *s = t->skel;
	struct bpf_program *progs[PR_COUNT] = {
		s->progs.g_create, s->progs.g_exit, s->progs.m_create, s->progs.handoff,
		s->progs.steal,	   s->progs.preempt, s->progs.park,    s->progs.ready,
	};

	r->libgreen = lib;
	for (int i = 0; i < PR_COUNT; i++) {
		if ((i == PR_PARK || i == PR_READY) && !env.park) {
			r->probe[i] = PROBE_OFF;
			continue;
		}
		t->ulinks[i] = bpf_program__attach_usdt(progs[i], pid, lib, "libgreen",
							probe_names[i], NULL);
		r->probe[i] = t->ulinks[i] ? PROBE_ATTACHED : PROBE_ABSENT;
		if (!t->ulinks[i] && env.verbose)
			fprintf(stderr, "greenstat: probe libgreen:%s not attached: %s\n",
				probe_names[i], strerror(errno));
	}
}

/* ---- sampling --------------------------------------------------------------- */

static void series_add(struct series *s, __u64 t_ms, __s64 alive)
{
	if (s->n && s->pts[s->n - 1].t_ms == t_ms) {
		s->pts[s->n - 1].alive = alive;
		return;
	}
	if (s->n == SERIES_MAX) {
		/* Keep the first point and every other one after it. */
		unsigned int j = 1;

		for (unsigned int i = 2; i < s->n; i += 2)
			s->pts[j++] = s->pts[i];
		s->n = j;
		s->step_ms *= 2;
	}
	s->pts[s->n].t_ms = t_ms;
	s->pts[s->n].alive = alive;
	s->n++;
}

struct live {
	__u64 next_line_ns;
	struct gs_kstats last;
	FILE *out;
};

static void live_header(struct live *l, const struct run *r)
{
	l->out = env.json ? stderr : stdout;
	fprintf(l->out, "%s run:\n%-9s %7s %8s %8s %8s %8s %9s %7s\n", r->mode, "TIME(s)",
		"ALIVE", "CREATED", "EXITED", "VCSW", "IVCSW", "SYSCALLS", "LIVE_GS");
	memset(&l->last, 0, sizeof(l->last));
}

static void live_line(struct live *l, const struct run *r, const struct gs_kstats *k,
		      const struct gs_gstats *g, __u64 elapsed_ns)
{
	char gs[24] = "-";

	if (r->libgreen && r->probe[PR_G_CREATE] == PROBE_ATTACHED)
		snprintf(gs, sizeof(gs), "%lld", (long long)g->live_gs);
	fprintf(l->out, "%-9.3f %7lld %8llu %8llu %8llu %8llu %9llu %7s\n", elapsed_ns / 1e9,
		(long long)k->alive, (unsigned long long)(k->created - l->last.created),
		(unsigned long long)(k->exited - l->last.exited),
		(unsigned long long)(k->vol_switches - l->last.vol_switches),
		(unsigned long long)(k->invol_switches - l->last.invol_switches),
		(unsigned long long)(k->syscalls - l->last.syscalls), gs);
	fflush(l->out);
	l->last = *k;
}

static long read_vmhwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Sample until pidfd says the target ended, -d expires or we are told to
 * stop.  `child`: our own child (killed at -d) or 0 for -p. */
static void sample_loop(struct tracer *t, struct run *r, int pidfd, pid_t target, pid_t child,
			__u64 t0)
{
	struct gs_kstats *k = &t->skel->bss->kstats;
	struct gs_gstats *g = &t->skel->bss->gstats;
	__u64 deadline = env.duration_s ? t0 + env.duration_s * 1000000000ull : 0;
	__u64 interval = env.interval_ms * 1000000ull;
	bool killed = false;
	struct live l = {};

	r->s.step_ms = 2;
	if (env.interval_ms)
		live_header(&l, r);
	l.next_line_ns = t0 + interval;
	for (;;) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
		int ready = poll(&pfd, 1, r->s.step_ms);
		__u64 now = now_ns();

		series_add(&r->s, (now - t0) / 1000000, __atomic_load_n(&k->alive, __ATOMIC_RELAXED));
		if (!child) {
			long kb = read_vmhwm_kb(target);

			if (kb > r->peak_rss_kb)
				r->peak_rss_kb = kb;
		}
		if (interval && now >= l.next_line_ns) {
			live_line(&l, r, k, g, now - t0);
			l.next_line_ns += interval * ((now - l.next_line_ns) / interval + 1);
		}
		if (ready > 0)
			break;
		if (stop_signal && !child)
			break;
		if (deadline && now >= deadline) {
			if (!child)
				break;
			if (!killed) {
				kill(child, SIGTERM);
				killed = true;
			}
		}
	}
	if (interval)
		live_line(&l, r, k, g, now_ns() - t0);
}

static void collect(struct tracer *t, struct run *r)
{
	struct greenstat_bpf__bss *b = t->skel->bss;

	r->hooks = use_tp_btf ? "tp_btf" : "raw_tp";
	r->k = b->kstats;
	r->g = b->gstats;
	memcpy(r->sc, b->syscall_counts, sizeof(r->sc));
	if (r->k.dropped)
		fprintf(stderr, "greenstat: warning: %s run: %llu events dropped (map full): counts "
			"are lower bounds\n", r->mode, (unsigned long long)r->k.dropped);
}

/* Context switches counted in BPF must agree with the child's wait4 rusage.
 * They differ only by the leader's final switch racing our wait4, or by
 * descendants their parent never waited for (rusage leaves those out). */
static void check_switches(struct run *r)
{
	__u64 bpf = r->k.vol_switches + r->k.invol_switches;
	__u64 ru = r->ru.ru_nvcsw + r->ru.ru_nivcsw;
	__u64 diff = bpf > ru ? bpf - ru : ru - bpf;

	r->switch_tol = 2 + ru / 100;
	r->switch_ok = diff <= r->switch_tol;
	if (!r->switch_ok)
		fprintf(stderr,
			"greenstat: warning: %s run: BPF counted %llu context switches, wait4 rusage "
			"says %llu (tolerance %llu);\n  a process of the tree that its parent never "
			"waited for is missing from rusage, or events were lost\n",
			r->mode, (unsigned long long)bpf, (unsigned long long)ru,
			(unsigned long long)r->switch_tol);
}

/* ---- one run of the command --------------------------------------------------- */

static pid_t pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* Fork the command, blocked before exec on `go`.  The child reports an
 * exec failure's errno on `err` (close-on-exec, so success reads EOF). */
static pid_t spawn(char **argv, const char *path, const char *preload, int *go_w, int *err_r)
{
	int go[2], er[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC) || pipe2(er, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (read(go[0], &c, 1) != 1)
			_exit(EXIT_NOEXEC);
		/* --json: our stdout carries exactly one JSON document. */
		if (env.json && dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
			_exit(EXIT_NOEXEC);
		if (preload) {
			const char *old = getenv("LD_PRELOAD");
			char *v;

			if (old && *old && asprintf(&v, "%s:%s", preload, old) > 0)
				setenv("LD_PRELOAD", v, 1);
			else
				setenv("LD_PRELOAD", preload, 1);
		}
		execv(path, argv);
		int e = errno;
		if (write(er[1], &e, sizeof(e)) < 0)
			_exit(EXIT_NOEXEC);
		_exit(e == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
	}
	close(go[0]);
	close(er[1]);
	if (pid < 0) {
		close(go[1]);
		close(er[0]);
		return -1;
	}
	*go_w = go[1];
	*err_r = er[0];
	return pid;
}

/* Returns 0, or a greenstat exit status (1, 126, 127) after printing why. */
static int run_command(struct run *r, const char *path, const char *preload, const char *usdt)
{
	struct tracer t = {};
	int go = -1, er = -1, pidfd = -1, status, e, ret = 1;
	pid_t child = -1;
	__u64 t0;

	r->peak_rss_kb = -1;
	if (tracer_open(&t, getpid(), 0))
		goto cleanup;
	child = spawn(env.cmd, path, preload, &go, &er);
	if (child < 0) {
		fprintf(stderr, "greenstat: fork: %s\n", strerror(errno));
		goto cleanup;
	}
	pidfd = pidfd_open(child);
	if (pidfd < 0) {
		fprintf(stderr, "greenstat: pidfd_open: %s\n", strerror(errno));
		goto cleanup;
	}
	if (usdt)
		tracer_attach_usdt(&t, r, child, usdt);
	t0 = now_ns();
	series_add(&r->s, 0, __atomic_load_n(&t.skel->bss->kstats.alive, __ATOMIC_RELAXED));
	if (write(go, "g", 1) != 1) {
		fprintf(stderr, "greenstat: cannot start the command: %s\n", strerror(errno));
		goto cleanup;
	}
	close(go);
	go = -1;
	if (read(er, &e, sizeof(e)) == sizeof(e)) {
		fprintf(stderr, "greenstat: %s: %s\n", env.cmd[0],
			e == ENOENT ? "command not found" : strerror(e));
		ret = e == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
		goto cleanup;
	}
	sample_loop(&t, r, pidfd, child, child, t0);
	if (wait4(child, &status, 0, &r->ru) < 0) {
		fprintf(stderr, "greenstat: wait4: %s\n", strerror(errno));
		goto cleanup;
	}
	child = -1;
	r->wall_ns = now_ns() - t0;
	r->has_status = true;
	r->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->has_rusage = true;
	r->peak_rss_kb = r->ru.ru_maxrss;
	series_add(&r->s, r->wall_ns / 1000000,
		   __atomic_load_n(&t.skel->bss->kstats.alive, __ATOMIC_RELAXED));
	collect(&t, r);
	check_switches(r);
	ret = 0;
cleanup:
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	if (go >= 0)
		close(go);
	if (er >= 0)
		close(er);
	if (pidfd >= 0)
		close(pidfd);
	tracer_close(&t);
	return ret;
}

/* ---- -p PID ---------------------------------------------------------------------- */

static pid_t read_tgid(pid_t pid)
{
	char path[64], line[256];
	pid_t tgid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

static char *libgreen_in_maps(pid_t pid)
{
	char path[64], line[PATH_MAX + 256], *res = NULL;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	while (!res && fgets(line, sizeof(line), f)) {
		char *file = strchr(line, '/'), *base;

		if (!file)
			continue;
		file[strcspn(file, "\n")] = 0;
		base = strrchr(file, '/') + 1;
		if (!strncmp(base, "libgreen", 8) && strstr(base, ".so"))
			res = strdup(file);
	}
	fclose(f);
	return res;
}

/* The process's threads that existed before we attached.  A thread that
 * the fork hook already counted is refused by BPF_NOEXIST; one that exits
 * between readdir and insert is taken back out.  The group's procs entry is
 * pinned (pid_tgid), so its nthreads need not be exact. */
static int seed_threads(struct tracer *t, pid_t tgid)
{
	struct gs_kstats *k = &t->skel->bss->kstats;
	int tfd = bpf_map__fd(t->skel->maps.threads);
	int pfd = bpf_map__fd(t->skel->maps.procs);
	struct gs_proc proc = {};
	char path[64];
	struct dirent *de;
	__s64 n = 0, alive, peak;
	DIR *d;

	if (bpf_map_update_elem(pfd, &tgid, &proc, BPF_NOEXIST))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task", tgid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		struct gs_thread th = { .off_ts = 0 };
		__u32 tid = atoi(de->d_name);
		char tpath[96];

		if (!tid || bpf_map_update_elem(tfd, &tid, &th, BPF_NOEXIST))
			continue;
		snprintf(tpath, sizeof(tpath), "/proc/%d/task/%u", tgid, tid);
		if (access(tpath, F_OK) && !bpf_map_delete_elem(tfd, &tid))
			continue;
		n++;
	}
	closedir(d);
	if (!n)
		return -1;
	__atomic_fetch_add(&k->seeded, n, __ATOMIC_RELAXED);
	alive = __atomic_add_fetch(&k->alive, n, __ATOMIC_RELAXED);
	peak = __atomic_load_n(&k->peak, __ATOMIC_RELAXED);
	while (alive > peak &&
	       !__atomic_compare_exchange_n(&k->peak, &peak, alive, false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	return 0;
}

static char **read_cmdline(pid_t pid)
{
	static char buf[4096];
	static char *argv[64];
	char path[64];
	ssize_t n;
	int fd, i = 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	for (char *p = buf; p < buf + n && i < 63; p += strlen(p) + 1)
		argv[i++] = p;
	argv[i] = NULL;
	return argv;
}

static int trace_pid(struct run *r)
{
	struct tracer t = {};
	pid_t tgid = read_tgid(env.pid);
	char *lib = NULL;
	int pidfd = -1, ret = 1;
	__u64 t0;

	r->peak_rss_kb = -1;
	pidfd = tgid > 0 ? pidfd_open(tgid) : -1;
	if (pidfd < 0) {
		fprintf(stderr, "greenstat: no process %d (it exited before greenstat could attach)\n",
			env.pid);
		return 1;
	}
	env.cmd = read_cmdline(tgid);
	lib = env.libgreen ? realpath(env.libgreen, NULL) : libgreen_in_maps(tgid);
	if (tracer_open(&t, 0, tgid))
		goto cleanup;
	if (lib)
		tracer_attach_usdt(&t, r, tgid, lib);
	t0 = now_ns();
	if (seed_threads(&t, tgid) || kill(tgid, 0)) {
		fprintf(stderr, "greenstat: process %d exited before greenstat could attach\n",
			tgid);
		goto cleanup;
	}
	series_add(&r->s, 0, __atomic_load_n(&t.skel->bss->kstats.alive, __ATOMIC_RELAXED));
	fprintf(stderr, "greenstat: tracing %d (%llu threads); Ctrl-C to stop\n", tgid,
		(unsigned long long)t.skel->bss->kstats.seeded);
	sample_loop(&t, r, pidfd, tgid, 0, t0);
	r->wall_ns = now_ns() - t0;
	series_add(&r->s, r->wall_ns / 1000000,
		   __atomic_load_n(&t.skel->bss->kstats.alive, __ATOMIC_RELAXED));
	collect(&t, r);
	ret = 0;
cleanup:
	close(pidfd);
	tracer_close(&t);
	if (ret)
		free(lib);
	return ret;
}

/* ---- main ----------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_arg, .doc = argp_doc };
	static struct run runs[2];
	struct sigaction sa = { .sa_handler = sig_handler };
	char *path = NULL, *lib = NULL;
	int nruns = 0, err, ret = 1;

	err = argp_parse(&argp, argc, argv, ARGP_IN_ORDER, NULL, NULL);
	if (err)
		return err;
	libbpf_set_print(libbpf_print_fn);
	if (check_privileges(argv[0]) || check_btf())
		return 1;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (env.verbose)
		fprintf(stderr, "greenstat: scheduler hooks: %s\n", use_tp_btf ? "tp_btf" : "raw_tp");

	if (env.pid) {
		runs[0].mode = "pid";
		if (trace_pid(&runs[0]))
			return 1;
		nruns = 1;
	} else {
		path = resolve_command(env.cmd[0]);
		if (!path) {
			err = errno;
			fprintf(stderr, "greenstat: %s: %s\n", env.cmd[0],
				err == ENOENT ? "command not found" : strerror(err));
			return err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
		}
		if (env.compare || env.libgreen) {
			if (elf_is_dynamic(path) == 0) {
				fprintf(stderr,
					"greenstat: %s is statically linked (no PT_INTERP): libgreen "
					"cannot be preloaded into a static binary; run it without "
					"--compare/--libgreen, or link it dynamically\n",
					path);
				goto out;
			}
			lib = find_libgreen();
			if (!lib)
				goto out;
		}
		if (env.compare) {
			runs[nruns].mode = "native";
			if ((ret = run_command(&runs[nruns], path, NULL, NULL)))
				goto out;
			nruns++;
		}
		if (lib) {
			runs[nruns].mode = "libgreen";
			if ((ret = run_command(&runs[nruns], path, lib, lib)))
				goto out;
		} else {
			runs[nruns].mode = "plain";
			lib = libgreen_in_preload(getenv("LD_PRELOAD"));
			if ((ret = run_command(&runs[nruns], path, NULL, lib)))
				goto out;
		}
		nruns++;
	}

	if (env.json)
		report_json(stdout, env.cmd, env.pid, runs, nruns, env.top);
	else
		report_table(stdout, env.cmd, runs, nruns, env.top);
	if (env.plot && (err = svg_plot(env.plot, env.cmd, runs, nruns))) {
		fprintf(stderr, "greenstat: cannot write %s: %s\n", env.plot, strerror(-err));
		ret = 1;
		goto out;
	}
	/* The command's status; for --compare the first failing run's. */
	ret = 0;
	for (int i = 0; i < nruns && !ret; i++)
		if (runs[i].has_status)
			ret = runs[i].exit_status;
out:
	free(path);
	free(lib);
	return ret;
}
