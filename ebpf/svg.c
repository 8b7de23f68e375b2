// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * svg.c: threads alive over time as a self-contained SVG line chart: one
 * step line per run (native, libgreen, ...), axes with ticks, labels, a
 * legend, and each run's exact kernel peak as a dashed line (the series is
 * sampled, the peak is not).  Every series is a <polyline> carrying
 * data-mode="<mode>" so tests can find it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "report.h"

#define W 800
#define H 450
#define X0 70	/* plot area */
#define X1 770
#define Y0 50
#define Y1 380

static const char *color(const char *mode)
{
	if (!strcmp(mode, "native"))
		return "#d62728";
	if (!strcmp(mode, "libgreen"))
		return "#1f77b4";
	if (!strcmp(mode, "plain"))
		return "#2ca02c";
	return "#9467bd";
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)*s >= 0x20)
				fputc(*s, f);
		}
	}
}

/* 1, 2 or 5 times a power of ten, giving about `n` intervals over max. */
static double nice_step(double max, int n)
{
	double raw = max / n, mag = 1;

	while (mag * 10 <= raw)
		mag *= 10;
	while (mag > raw && mag > 1e-9)
		mag /= 10;
	if (mag >= raw)
		return mag;
	if (2 * mag >= raw)
		return 2 * mag;
	if (5 * mag >= raw)
		return 5 * mag;
	return 10 * mag;
}

int svg_plot(const char *path, char *const *cmd, const struct run *runs, int nruns)
{
	double xmax = 1, ymax = 1, xstep, ystep;
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	for (int r = 0; r < nruns; r++) {
		const struct series *s = &runs[r].s;

		if (s->n && s->pts[s->n - 1].t_ms > xmax)
			xmax = s->pts[s->n - 1].t_ms;
		if (runs[r].k.peak > ymax)
			ymax = runs[r].k.peak;
		for (unsigned int i = 0; i < s->n; i++)
			if (s->pts[i].alive > ymax)
				ymax = s->pts[i].alive;
	}
	xstep = nice_step(xmax, 8);
	ystep = nice_step(ymax, 6);
	if (ystep < 1)
		ystep = 1;
	xmax = xstep * (long)((xmax + xstep - 1e-9) / xstep);
	ymax = ystep * (long)((ymax * 1.05 + ystep - 1e-9) / ystep);
#define PX(t) (X0 + (X1 - X0) * (double)(t) / xmax)
#define PY(v) (Y1 - (Y1 - Y0) * (double)(v) / ymax)

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		W, H, W, H);
	fprintf(f, "<title>greenstat: kernel threads alive over time</title>\n"
		   "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		   "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">"
		   "Kernel threads alive over time:",
		X0);
	for (int i = 0; cmd && cmd[i] && i < 6; i++) {
		fputc(' ', f);
		xml_text(f, cmd[i]);
	}
	fprintf(f, "</text>\n");

	/* grid, ticks and tick labels */
	fprintf(f, "<g stroke=\"#dddddd\" stroke-width=\"1\">\n");
	for (double v = 0; v <= ymax + 1e-9; v += ystep)
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", X0, PY(v), X1,
			PY(v));
	for (double t = 0; t <= xmax + 1e-9; t += xstep)
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", PX(t), Y0,
			PX(t), Y1);
	fprintf(f, "</g>\n<g text-anchor=\"end\">\n");
	for (double v = 0; v <= ymax + 1e-9; v += ystep)
		fprintf(f, "<text x=\"%d\" y=\"%.1f\">%g</text>\n", X0 - 6, PY(v) + 4, v);
	fprintf(f, "</g>\n<g text-anchor=\"middle\">\n");
	for (double t = 0; t <= xmax + 1e-9; t += xstep)
		fprintf(f, "<text x=\"%.1f\" y=\"%d\">%g</text>\n", PX(t), Y1 + 16, t);
	fprintf(f, "</g>\n");

	/* axes and their labels */
	fprintf(f, "<g stroke=\"black\" stroke-width=\"1.5\">"
		   "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
		   "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/></g>\n",
		X0, Y1, X1, Y1, X0, Y0, X0, Y1);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">time since start (ms)</text>\n",
		(X0 + X1) / 2, Y1 + 38);
	fprintf(f, "<text x=\"18\" y=\"%d\" text-anchor=\"middle\" "
		   "transform=\"rotate(-90 18 %d)\">kernel threads alive</text>\n",
		(Y0 + Y1) / 2, (Y0 + Y1) / 2);

	/* series and exact peaks */
	for (int r = 0; r < nruns; r++) {
		const struct series *s = &runs[r].s;
		const char *c = color(runs[r].mode);
		__s64 prev = s->n ? s->pts[0].alive : 0;

		fprintf(f, "<polyline class=\"series\" data-mode=\"%s\" fill=\"none\" stroke=\"%s\" "
			   "stroke-width=\"2\" points=\"%.1f,%.1f",
			runs[r].mode, c, PX(s->n ? s->pts[0].t_ms : 0), PY(prev));
		for (unsigned int i = 0; i < s->n; i++) {
			fprintf(f, " %.1f,%.1f %.1f,%.1f", PX(s->pts[i].t_ms), PY(prev),
				PX(s->pts[i].t_ms), PY(s->pts[i].alive));
			prev = s->pts[i].alive;
		}
		fprintf(f, "\"/>\n<line class=\"peak\" data-mode=\"%s\" x1=\"%d\" y1=\"%.1f\" "
			   "x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-dasharray=\"5,4\"/>\n",
			runs[r].mode, X0, PY(runs[r].k.peak), X1, PY(runs[r].k.peak), c);
	}

	/* legend, bottom row */
	for (int r = 0; r < nruns; r++) {
		int x = X0 + r * 280;

		fprintf(f, "<g class=\"legend\"><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
			   "stroke=\"%s\" stroke-width=\"3\"/>"
			   "<text x=\"%d\" y=\"%d\">%s (peak %lld, dashed)</text></g>\n",
			x, H - 22, x + 28, H - 22, color(runs[r].mode), x + 34, H - 18,
			runs[r].mode, (long long)runs[r].k.peak);
	}
	fprintf(f, "</svg>\n");
#undef PX
#undef PY
	if (fclose(f))
		return -errno;
	return 0;
}
