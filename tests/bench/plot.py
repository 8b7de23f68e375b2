#!/usr/bin/env python3
"""make bench-plot: draw $BUILD/bench/results.json (from make bench) as an SVG.

    python3 tests/bench/plot.py RESULTS.json OUT.svg

One row per benchmark metric: a bar per runtime (native, libgreen, Go),
linear in that row (the longest bar is the row's largest median), the median
written beside it and the min-max spread drawn as a whisker. The row label
says whether lower or higher is better, the libgreen gain over native and
whether the goal is met. Plain SVG, no dependencies beyond python3.
"""
import html
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import fmt  # noqa: E402  (one number format for the table and the chart)

COLORS = {"native": "#8c8c8c", "libgreen": "#2e9d4b", "go": "#2f6db5"}
LABEL_W, BAR_W, VALUE_W = 450, 420, 150
BAR_H, GAP, ROW_PAD = 13, 2, 14


def esc(s):
    return html.escape(str(s), quote=True)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: plot.py RESULTS.json OUT.svg")
    try:
        with open(sys.argv[1]) as f:
            doc = json.load(f)
    except OSError as e:
        sys.exit("bench-plot: %s (run make bench first)" % e)
    rows = []
    for b in doc["benchmarks"]:
        for r in b["rows"]:
            rows.append((b, r))
    if not rows:
        sys.exit("bench-plot: no results in %s" % sys.argv[1])
    modes = [m for m in ("native", "libgreen", "go") if any(r.get(m) for _, r in rows)]
    row_h = len(modes) * (BAR_H + GAP) + ROW_PAD
    top = 70
    width = LABEL_W + BAR_W + VALUE_W + 20
    height = top + row_h * len(rows) + 30
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">'
           % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="20" font-size="15" font-weight="bold">libgreen make bench: native vs libgreen vs Go</text>',
           '<text x="10" y="38" fill="#444">%s; %s CPUs, kernel %s; GREEN_PROCS=%s; median of %s repetition(s), '
           'whisker = min-max; bars linear per row</text>'
           % (esc(doc.get("date", "")), doc["machine"].get("cpus"), esc(doc["machine"].get("kernel")),
              doc.get("green_procs"), doc.get("reps"))]
    x = LABEL_W
    for i, m in enumerate(modes):
        out.append('<rect x="%d" y="48" width="12" height="10" fill="%s"/><text x="%d" y="57">%s</text>'
                   % (x + i * 110, COLORS[m], x + i * 110 + 16, m))
    y = top
    last_bench = None
    for b, r in rows:
        if b["bench"] != last_bench:
            out.append('<line x1="10" x2="%d" y1="%d" y2="%d" stroke="#ddd"/>' % (width - 10, y - 4, y - 4))
        name = b["bench"] if b["bench"] != last_bench else ""
        last_bench = b["bench"]
        better = "lower is better" if r["better"] == "lower" else "higher is better"
        out.append('<text x="10" y="%d" font-weight="bold">%s</text>' % (y + 10, esc(name)))
        out.append('<text x="170" y="%d">%s %s</text>' % (y + 10, esc(r["metric"]), esc(r["unit"])))
        out.append('<text x="170" y="%d" fill="#666">%s</text>' % (y + 23, better))
        notes = []
        if r.get("gain_vs_native"):
            notes.append("libgreen %sx vs native" % fmt(r["gain_vs_native"]))
        if r.get("goal"):
            met = r.get("goal_met")
            notes.append(("goal met: " if met else "goal missed: " if met is False else "goal: ") + r["goal"])
        for k, n in enumerate(notes):
            color = "#2e9d4b" if "met:" in n else "#c0392b" if "missed" in n else "#444"
            out.append('<text x="170" y="%d" fill="%s">%s</text>' % (y + 36 + 12 * k, color, esc(n)))
        vmax = max([r[m]["max"] for m in modes if r.get(m)] + [1e-12])
        for i, m in enumerate(modes):
            by = y + i * (BAR_H + GAP)
            s = r.get(m)
            if not s:
                out.append('<text x="%d" y="%d" fill="#999">%s: -</text>' % (x + 4, by + 10, m))
                continue
            w = max(1.0, BAR_W * max(s["median"], 0) / vmax)
            out.append('<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s %s: median %s (%s-%s, %d runs)'
                       '</title></rect>' % (x, by, w, BAR_H, COLORS[m], esc(m), esc(r["metric"]), fmt(s["median"]),
                                            fmt(s["min"]), fmt(s["max"]), s["n"]))
            if s["n"] > 1:
                x0, x1 = x + BAR_W * max(s["min"], 0) / vmax, x + BAR_W * max(s["max"], 0) / vmax
                cy = by + BAR_H / 2
                out.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="black"/>' % (x0, x1, cy, cy))
                for xx in (x0, x1):
                    out.append('<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="black"/>' % (xx, xx, by + 3, by + BAR_H - 3))
            partial = m in b.get("notes", {})
            out.append('<text x="%.1f" y="%d">%s%s</text>' % (x + max(w, BAR_W * s["max"] / vmax) + 5, by + 10,
                                                                fmt(s["median"]), " (stopped early)" if partial else ""))
        y += max(row_h, 36 + 12 * len(notes) + 4)
    out.append("</svg>")
    height = y + 20
    out[0] = out[0].replace('height="%d"' % (top + row_h * len(rows) + 30), 'height="%d"' % height)
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(out) + "\n")
    print("bench-plot: %s (%d rows)" % (sys.argv[2], len(rows)))


if __name__ == "__main__":
    main()
