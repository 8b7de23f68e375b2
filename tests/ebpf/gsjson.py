#!/usr/bin/env python3
"""gsjson.py: check `greenstat --json` output (schema "greenstat/1", ebpf/README.md).

  gsjson.py schema FILE          validate FILE against the documented schema
  gsjson.py check FILE EXPR...   every EXPR (Python) must be true; names:
                                 d (document), r0/r1 (runs), k0/k1 (their
                                 "kernel"), g0/g1 (their "green")
Exit status 0 when all hold; otherwise the failures are printed.
"""
import json
import sys

INT = "int"
OPT_INT = "int|null"

KERNEL = {
    "threads_created": INT, "threads_exited": INT, "threads_at_start": INT,
    "peak_threads": INT, "voluntary_switches": INT, "involuntary_switches": INT,
    "cpu_ns": INT, "offcpu_ns": INT, "peak_rss_kb": OPT_INT, "syscalls_total": INT,
    "dropped_events": INT, "syscalls_top": list, "series_step_ms": INT, "series": list,
}
RUSAGE = {"voluntary_switches": INT, "involuntary_switches": INT, "user_ns": INT,
          "sys_ns": INT, "maxrss_kb": INT}
CHECK = {"bpf": INT, "rusage": INT, "tolerance": INT, "ok": bool}
PROBES = ["g_create", "g_exit", "m_create", "handoff", "steal", "preempt", "park", "ready"]
GREEN = {"library": str, "probes": dict, "gs_created": OPT_INT, "gs_exited": OPT_INT,
         "peak_gs": OPT_INT, "ms_created": OPT_INT, "handoffs": OPT_INT, "steals": OPT_INT,
         "stolen_gs": OPT_INT, "preemptions": OPT_INT, "parks": OPT_INT, "readies": OPT_INT}
# green key -> the probe that must be attached for it to be non-null
GREEN_PROBE = {"gs_created": "g_create", "gs_exited": "g_exit", "ms_created": "m_create",
               "handoffs": "handoff", "steals": "steal", "stolen_gs": "steal",
               "preemptions": "preempt", "parks": "park", "readies": "ready"}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def typecheck(where, obj, spec, errs):
    if not isinstance(obj, dict):
        errs.append(f"{where}: expected an object, got {obj!r}")
        return
    for key, t in spec.items():
        if key not in obj:
            errs.append(f"{where}.{key}: missing")
            continue
        v = obj[key]
        ok = (is_int(v) if t == INT else
              v is None or is_int(v) if t == OPT_INT else
              isinstance(v, t))
        if not ok:
            errs.append(f"{where}.{key}: expected {t if isinstance(t, str) else t.__name__}, got {v!r}")


def schema(d):
    errs = []
    typecheck("$", d, {"schema": str, "command": list, "runs": list}, errs)
    if errs:
        return errs
    if d["schema"] != "greenstat/1":
        errs.append(f"$.schema: {d['schema']!r}")
    if "pid" not in d or not (d["pid"] is None or is_int(d["pid"])):
        errs.append("$.pid: missing or not int|null")
    if not all(isinstance(a, str) for a in d["command"]):
        errs.append("$.command: not a list of strings")
    if not d["runs"]:
        errs.append("$.runs: empty")
    for i, r in enumerate(d["runs"]):
        w = f"$.runs[{i}]"
        typecheck(w, r, {"mode": str, "wall_ns": INT, "exit_status": OPT_INT, "hooks": str,
                         "kernel": dict}, errs)
        if r.get("mode") not in ("native", "libgreen", "plain", "pid"):
            errs.append(f"{w}.mode: {r.get('mode')!r}")
        if r.get("hooks") not in ("tp_btf", "raw_tp"):
            errs.append(f"{w}.hooks: {r.get('hooks')!r}")
        k = r.get("kernel", {})
        typecheck(w + ".kernel", k, KERNEL, errs)
        for j, s in enumerate(k.get("syscalls_top", [])):
            typecheck(f"{w}.kernel.syscalls_top[{j}]", s, {"name": str, "nr": INT, "count": INT}, errs)
        counts = [s.get("count", 0) for s in k.get("syscalls_top", [])]
        if counts != sorted(counts, reverse=True):
            errs.append(f"{w}.kernel.syscalls_top: not sorted by count")
        last_t = -1
        for j, p in enumerate(k.get("series", [])):
            if not (isinstance(p, list) and len(p) == 2 and is_int(p[0]) and is_int(p[1])):
                errs.append(f"{w}.kernel.series[{j}]: expected [t_ms, alive], got {p!r}")
                break
            if p[0] <= last_t:
                errs.append(f"{w}.kernel.series[{j}]: time not increasing")
                break
            last_t = p[0]
        if is_int(k.get("peak_threads")) and any(
                isinstance(p, list) and len(p) == 2 and is_int(p[1]) and p[1] > k["peak_threads"]
                for p in k.get("series", [])):
            errs.append(f"{w}: a sample exceeds the exact peak")
        for key in ("rusage", "switch_check", "green"):
            if key not in r:
                errs.append(f"{w}.{key}: missing")
        if r.get("rusage") is not None:
            typecheck(w + ".rusage", r["rusage"], RUSAGE, errs)
        if r.get("switch_check") is not None:
            typecheck(w + ".switch_check", r["switch_check"], CHECK, errs)
        g = r.get("green")
        if g is not None:
            typecheck(w + ".green", g, GREEN, errs)
            probes = g.get("probes", {})
            for p in PROBES:
                if probes.get(p) not in ("attached", "absent", "off"):
                    errs.append(f"{w}.green.probes.{p}: {probes.get(p)!r}")
            for key, p in GREEN_PROBE.items():
                if (g.get(key) is None) != (probes.get(p) != "attached"):
                    errs.append(f"{w}.green.{key}: {g.get(key)!r} but probe {p} is {probes.get(p)!r}")
    return errs


def main(argv):
    if len(argv) < 3 or argv[1] not in ("schema", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[2]) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        print(f"gsjson: {argv[2]}: {e}")
        return 1
    if argv[1] == "schema":
        errs = schema(d)
        for e in errs:
            print(f"gsjson: {e}")
        return 1 if errs else 0
    runs = d.get("runs", [])
    names = {"d": d}
    for i, r in enumerate(runs[:2]):
        names[f"r{i}"], names[f"k{i}"], names[f"g{i}"] = r, r.get("kernel"), r.get("green")
    bad = 0
    for expr in argv[3:]:
        try:
            ok = eval(expr, {}, dict(names))
        except Exception as e:  # a missing key is a failure, not a crash
            ok, expr = False, f"{expr} ({type(e).__name__}: {e})"
        if not ok:
            bad += 1
            print(f"gsjson: not true: {expr}")
    if bad:
        summary = {f"k{i}": {x: r["kernel"].get(x) for x in
                             ("threads_created", "threads_exited", "peak_threads", "threads_at_start")}
                   for i, r in enumerate(runs[:2]) if isinstance(r.get("kernel"), dict)}
        print(f"gsjson: {json.dumps(summary)}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
