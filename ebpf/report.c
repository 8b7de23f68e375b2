// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * report.c: print runs as a fixed-width table (at most 80 columns) or as
 * JSON (schema "greenstat/1", documented in README.md; keep it stable:
 * other tests read it).  A value that was not measured is "-" / null, a
 * probe libgreen does not have is "n/a" / null: never a made-up 0.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "report.h"
#include "syscall_names.h"

#define COLW 14

static const char *syscall_name(unsigned int nr, char *buf, size_t len)
{
	if (nr < SYSCALL_NAMES_LEN && syscall_names[nr])
		return syscall_names[nr];
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

/* Indices of the `top` syscalls by count summed over the runs. */
static int top_syscalls(const struct run *runs, int nruns, int top, unsigned int *out)
{
	int n = 0;

	for (unsigned int nr = 0; nr < GS_MAX_SYSCALLS; nr++) {
		__u64 sum = 0;
		int pos;

		for (int r = 0; r < nruns; r++)
			sum += runs[r].sc[nr];
		if (!sum)
			continue;
		/* insertion into the sorted prefix */
		for (pos = n; pos > 0; pos--) {
			__u64 other = 0;

			for (int r = 0; r < nruns; r++)
				other += runs[r].sc[out[pos - 1]];
			if (other >= sum)
				break;
			if (pos < top)
				out[pos] = out[pos - 1];
		}
		if (pos < top) {
			out[pos] = nr;
			if (n < top)
				n++;
		}
	}
	return n;
}

/* ---- table ---------------------------------------------------------------- */

static void fmt_count(char *b, __u64 v)
{
	snprintf(b, COLW + 1, "%llu", (unsigned long long)v);
}

static void fmt_ns(char *b, __u64 ns)
{
	if (ns < 10000ull)
		snprintf(b, COLW + 1, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000ull)
		snprintf(b, COLW + 1, "%.1f us", ns / 1e3);
	else if (ns < 1000000000ull)
		snprintf(b, COLW + 1, "%.2f ms", ns / 1e6);
	else
		snprintf(b, COLW + 1, "%.3f s", ns / 1e9);
}

static void fmt_kb(char *b, long kb)
{
	if (kb < 0)
		snprintf(b, COLW + 1, "-");
	else if (kb < 10240)
		snprintf(b, COLW + 1, "%ld KiB", kb);
	else
		snprintf(b, COLW + 1, "%.1f MiB", kb / 1024.0);
}

enum kind { K_COUNT, K_NS, K_KB };

struct row {
	const char *name;
	enum kind kind;
	bool no_ratio;
	bool have[2];
	double v[2];
};

static void print_ratio(FILE *f, double x)
{
	if (x > 0 && x < 0.01)
		fprintf(f, " %10s", "<0.01x");
	else if (x >= 1000)
		fprintf(f, " %9.0fx", x);
	else
		fprintf(f, " %9.2fx", x);
}

static void print_row(FILE *f, const struct row *row, int nruns)
{
	char cell[COLW + 1];

	fprintf(f, "%-22s", row->name);
	for (int r = 0; r < nruns; r++) {
		if (!row->have[r])
			snprintf(cell, sizeof(cell), "-");
		else if (row->kind == K_NS)
			fmt_ns(cell, row->v[r]);
		else if (row->kind == K_KB)
			fmt_kb(cell, row->v[r]);
		else
			fmt_count(cell, row->v[r]);
		fprintf(f, " %*s", COLW, cell);
	}
	if (nruns == 2 && !row->no_ratio && row->have[0] && row->have[1] && row->v[0] > 0)
		print_ratio(f, row->v[1] / row->v[0]);
	fputc('\n', f);
}

static void kernel_row(FILE *f, const struct run *runs, int nruns, const char *name,
		       enum kind kind, size_t off)
{
	struct row row = { .name = name, .kind = kind };

	for (int r = 0; r < nruns; r++) {
		const char *base = (const char *)&runs[r].k;

		row.have[r] = true;
		row.v[r] = kind == K_COUNT && (off == offsetof(struct gs_kstats, peak) ||
					       off == offsetof(struct gs_kstats, alive))
				   ? (double)*(const __s64 *)(base + off)
				   : (double)*(const __u64 *)(base + off);
	}
	print_row(f, &row, nruns);
}

static const char *probe_cell(const struct run *r, enum probe p, __u64 v, char *cell)
{
	if (!r->libgreen)
		return "-";
	if (r->probe[p] == PROBE_OFF)
		return "off";
	if (r->probe[p] == PROBE_ABSENT)
		return "n/a";
	fmt_count(cell, v);
	return cell;
}

static __u64 gval(const struct gs_gstats *g, enum probe p)
{
	switch (p) {
	case PR_G_CREATE: return g->gs_created;
	case PR_G_EXIT: return g->gs_exited;
	case PR_M_CREATE: return g->ms_created;
	case PR_HANDOFF: return g->handoffs;
	case PR_STEAL: return g->steals;
	case PR_PREEMPT: return g->preemptions;
	case PR_PARK: return g->parks;
	case PR_READY: return g->readies;
	default: return 0;
	}
}

static void green_rows(FILE *f, const struct run *runs, int nruns)
{
	static const struct { const char *name; enum probe p; } rows[] = {
		{ "Gs created", PR_G_CREATE }, { "Gs exited", PR_G_EXIT },
		{ "peak live Gs", PR_COUNT },  { "Ms created", PR_M_CREATE },
		{ "handoffs", PR_HANDOFF },    { "steals", PR_STEAL },
		{ "preemptions", PR_PREEMPT }, { "parks", PR_PARK },
		{ "readies", PR_READY },
	};
	char cell[COLW + 1];

	fprintf(f, "libgreen (USDT)\n");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fprintf(f, "  %-20s", rows[i].name);
		for (int r = 0; r < nruns; r++) {
			const struct run *run = &runs[r];
			const char *c;

			if (rows[i].p == PR_COUNT) {
				c = probe_cell(run, PR_G_CREATE, 0, cell);
				if (c == cell) {
					c = probe_cell(run, PR_G_EXIT, run->g.peak_gs, cell);
					if (c == cell)
						snprintf(cell, sizeof(cell), "%lld",
							 (long long)run->g.peak_gs);
				}
			} else {
				c = probe_cell(run, rows[i].p, gval(&run->g, rows[i].p), cell);
			}
			fprintf(f, " %*s", COLW, c);
		}
		fputc('\n', f);
	}
}

void report_table(FILE *f, char *const *cmd, const struct run *runs, int nruns, int top)
{
	unsigned int tops[GS_MAX_SYSCALLS];
	char title[81];
	size_t len = 0;
	bool green = false;
	struct row row;
	int ntop;

	len = snprintf(title, sizeof(title), "greenstat:");
	for (int i = 0; cmd && cmd[i] && len < sizeof(title) - 1; i++)
		len += snprintf(title + len, sizeof(title) - len, " %s", cmd[i]);
	if (len >= sizeof(title) - 1)
		strcpy(title + sizeof(title) - 4, "...");
	fprintf(f, "%s\n", title);

	fprintf(f, "%-22s", "METRIC");
	for (int r = 0; r < nruns; r++)
		fprintf(f, " %*s", COLW, runs[r].mode);
	if (nruns == 2)
		fprintf(f, " %10s", "RATIO");
	fputc('\n', f);

	row = (struct row){ .name = "exit status", .kind = K_COUNT };
	for (int r = 0; r < nruns; r++) {
		row.have[r] = runs[r].has_status;
		row.v[r] = runs[r].exit_status;
	}
	row.no_ratio = true;
	print_row(f, &row, nruns);

	row = (struct row){ .name = "wall time", .kind = K_NS };
	for (int r = 0; r < nruns; r++) {
		row.have[r] = true;
		row.v[r] = runs[r].wall_ns;
	}
	print_row(f, &row, nruns);
	kernel_row(f, runs, nruns, "threads created", K_COUNT, offsetof(struct gs_kstats, created));
	kernel_row(f, runs, nruns, "threads exited", K_COUNT, offsetof(struct gs_kstats, exited));
	if (runs[0].k.seeded)
		kernel_row(f, runs, nruns, "threads at attach", K_COUNT,
			   offsetof(struct gs_kstats, seeded));
	kernel_row(f, runs, nruns, "peak threads alive", K_COUNT, offsetof(struct gs_kstats, peak));
	kernel_row(f, runs, nruns, "voluntary switches", K_COUNT,
		   offsetof(struct gs_kstats, vol_switches));
	kernel_row(f, runs, nruns, "involuntary switches", K_COUNT,
		   offsetof(struct gs_kstats, invol_switches));
	kernel_row(f, runs, nruns, "CPU time", K_NS, offsetof(struct gs_kstats, cpu_ns));
	kernel_row(f, runs, nruns, "off-CPU time", K_NS, offsetof(struct gs_kstats, offcpu_ns));
	row = (struct row){ .name = "peak RSS", .kind = K_KB };
	for (int r = 0; r < nruns; r++) {
		row.have[r] = runs[r].peak_rss_kb >= 0;
		row.v[r] = runs[r].peak_rss_kb;
	}
	print_row(f, &row, nruns);
	kernel_row(f, runs, nruns, "syscalls", K_COUNT, offsetof(struct gs_kstats, syscalls));

	for (int r = 0; r < nruns; r++)
		green |= runs[r].libgreen != NULL;
	if (green)
		green_rows(f, runs, nruns);

	ntop = top_syscalls(runs, nruns, top, tops);
	if (ntop)
		fprintf(f, "top syscalls\n");
	for (int i = 0; i < ntop; i++) {
		char name[32], label[40];

		snprintf(label, sizeof(label), "  %s", syscall_name(tops[i], name, sizeof(name)));
		row = (struct row){ .name = label, .kind = K_COUNT };
		for (int r = 0; r < nruns; r++) {
			row.have[r] = true;
			row.v[r] = runs[r].sc[tops[i]];
		}
		print_row(f, &row, nruns);
	}
}

/* ---- JSON --------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_u64(FILE *f, const char *key, __u64 v, bool comma)
{
	fprintf(f, "\"%s\": %llu%s", key, (unsigned long long)v, comma ? ", " : "");
}

static void json_green(FILE *f, const struct run *r)
{
	static const char *const keys[PR_COUNT] = {
		"gs_created", "gs_exited", "ms_created", "handoffs",
		"steals",     "preemptions", "parks",   "readies",
	};
	static const char *const states[] = { "off", "absent", "attached" };

	if (!r->libgreen) {
		fprintf(f, "null");
		return;
	}
	fprintf(f, "{\"library\": ");
	json_str(f, r->libgreen);
	fprintf(f, ", \"probes\": {");
	for (int p = 0; p < PR_COUNT; p++)
		fprintf(f, "%s\"%s\": \"%s\"", p ? ", " : "", probe_names[p], states[r->probe[p]]);
	fprintf(f, "}");
	for (int p = 0; p < PR_COUNT; p++) {
		if (r->probe[p] == PROBE_ATTACHED)
			fprintf(f, ", \"%s\": %llu", keys[p], (unsigned long long)gval(&r->g, p));
		else
			fprintf(f, ", \"%s\": null", keys[p]);
	}
	if (r->probe[PR_G_CREATE] == PROBE_ATTACHED && r->probe[PR_G_EXIT] == PROBE_ATTACHED)
		fprintf(f, ", \"peak_gs\": %lld", (long long)r->g.peak_gs);
	else
		fprintf(f, ", \"peak_gs\": null");
	fprintf(f, ", \"stolen_gs\": ");
	if (r->probe[PR_STEAL] == PROBE_ATTACHED)
		fprintf(f, "%llu}", (unsigned long long)r->g.stolen_gs);
	else
		fprintf(f, "null}");
}

static void json_run(FILE *f, const struct run *r, int top)
{
	unsigned int tops[GS_MAX_SYSCALLS];
	int ntop = top_syscalls(r, 1, top, tops);
	const struct gs_kstats *k = &r->k;

	fprintf(f, "    {\"mode\": \"%s\", \"exit_status\": ", r->mode);
	if (r->has_status)
		fprintf(f, "%d, ", r->exit_status);
	else
		fprintf(f, "null, ");
	json_u64(f, "wall_ns", r->wall_ns, true);
	fprintf(f, "\"hooks\": \"%s\",\n     \"kernel\": {", r->hooks);
	json_u64(f, "threads_created", k->created, true);
	json_u64(f, "threads_exited", k->exited, true);
	json_u64(f, "threads_at_start", k->seeded, true);
	fprintf(f, "\"peak_threads\": %lld, ", (long long)k->peak);
	json_u64(f, "voluntary_switches", k->vol_switches, true);
	json_u64(f, "involuntary_switches", k->invol_switches, true);
	json_u64(f, "cpu_ns", k->cpu_ns, true);
	json_u64(f, "offcpu_ns", k->offcpu_ns, true);
	if (r->peak_rss_kb >= 0)
		fprintf(f, "\"peak_rss_kb\": %ld, ", r->peak_rss_kb);
	else
		fprintf(f, "\"peak_rss_kb\": null, ");
	json_u64(f, "syscalls_total", k->syscalls, true);
	json_u64(f, "dropped_events", k->dropped, true);
	fprintf(f, "\n      \"syscalls_top\": [");
	for (int i = 0; i < ntop; i++) {
		char buf[32];

		fprintf(f, "%s{\"name\": \"%s\", \"nr\": %u, \"count\": %llu}", i ? ", " : "",
			syscall_name(tops[i], buf, sizeof(buf)), tops[i],
			(unsigned long long)r->sc[tops[i]]);
	}
	fprintf(f, "],\n      \"series_step_ms\": %u, \"series\": [", r->s.step_ms);
	for (unsigned int i = 0; i < r->s.n; i++)
		fprintf(f, "%s[%llu, %lld]", i ? ", " : "", (unsigned long long)r->s.pts[i].t_ms,
			(long long)r->s.pts[i].alive);
	fprintf(f, "]},\n     \"rusage\": ");
	if (r->has_rusage) {
		fprintf(f, "{");
		json_u64(f, "voluntary_switches", r->ru.ru_nvcsw, true);
		json_u64(f, "involuntary_switches", r->ru.ru_nivcsw, true);
		json_u64(f, "user_ns", r->ru.ru_utime.tv_sec * 1000000000ull +
					       r->ru.ru_utime.tv_usec * 1000ull, true);
		json_u64(f, "sys_ns", r->ru.ru_stime.tv_sec * 1000000000ull +
					      r->ru.ru_stime.tv_usec * 1000ull, true);
		json_u64(f, "maxrss_kb", r->ru.ru_maxrss, false);
		fprintf(f, "},\n     \"switch_check\": {");
		json_u64(f, "bpf", k->vol_switches + k->invol_switches, true);
		json_u64(f, "rusage", r->ru.ru_nvcsw + r->ru.ru_nivcsw, true);
		json_u64(f, "tolerance", r->switch_tol, true);
		fprintf(f, "\"ok\": %s}", r->switch_ok ? "true" : "false");
	} else {
		fprintf(f, "null,\n     \"switch_check\": null");
	}
	fprintf(f, ",\n     \"green\": ");
	json_green(f, r);
	fprintf(f, "}");
}

void report_json(FILE *f, char *const *cmd, int pid, const struct run *runs, int nruns, int top)
{
	fprintf(f, "{\"schema\": \"greenstat/1\", \"command\": [");
	for (int i = 0; cmd && cmd[i]; i++) {
		if (i)
			fprintf(f, ", ");
		json_str(f, cmd[i]);
	}
	fprintf(f, "], \"pid\": ");
	if (pid)
		fprintf(f, "%d", pid);
	else
		fprintf(f, "null");
	fprintf(f, ",\n  \"runs\": [\n");
	for (int r = 0; r < nruns; r++) {
		json_run(f, &runs[r], top);
		fprintf(f, "%s\n", r + 1 < nruns ? "," : "");
	}
	fprintf(f, "  ]}\n");
}
