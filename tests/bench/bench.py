#!/usr/bin/env python3
"""make bench: every benchmark natively, under libgreen and as its Go twin.

The same unmodified binaries run natively and with LD_PRELOAD=libgreen.so
(GREEN_PROCS=2 unless a benchmark says otherwise), and their Go twins
(tests/bench/go, built here) where `go` is installed, BENCH_REPS times each
(default 3), the three interleaved in every repetition so that noise from
other users of the machine hits all of them alike. Every program checks its
own work and prints one "RESULT name=... metric=value ..." line; a run that
exits non-zero counts as a failure and gives no number.

Prints a table (median and min-max of each metric, the gain of libgreen over
native and over Go, the goal and whether it is met) and writes it as JSON to
$BUILD/bench/results.json (schema: tests/bench/README.md).

Environment: BUILD (absolute build dir), BENCH_REPS (repetitions, default 3),
BENCH_QUICK=1 (smaller sizes, one repetition unless BENCH_REPS is set),
BENCH_ONLY=name,name (run only these benchmarks), GREEN_PROCS (default 2).
"""
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time

SRC = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(SRC))
BUILD = os.environ.get("BUILD") or os.path.join(ROOT, "build")
LIB = os.path.join(BUILD, "libgreen.so")
EX = os.path.join(BUILD, "examples")
BIN = os.path.join(BUILD, "bench")
TOOLS = os.path.join(BUILD, "tools")
QUICK = os.environ.get("BENCH_QUICK") == "1"
REPS = int(os.environ.get("BENCH_REPS") or (1 if QUICK else 3))
PROCS = os.environ.get("GREEN_PROCS") or "2"
ONLY = [x for x in os.environ.get("BENCH_ONLY", "").split(",") if x]
TMP = os.path.join(BIN, "tmp")
MODES = ("native", "libgreen", "go")
# glibc tunables that shrink the static TLS reserve every thread (and G)
# carries for libraries dlopen'ed later with initial-exec TLS: 1 namespace,
# no optional part (README "Compact G blocks").
COMPACT_TLS = "glibc.rtld.optional_static_tls=0:glibc.rtld.nns=1"


def q(normal, quick):
    return str(quick if QUICK else normal)


def ex(name):
    return os.path.join(EX, name)


def bn(name):
    return os.path.join(BIN, name)


def gobin(name):
    return os.path.join(BIN, "go_" + name)


# ---------------------------------------------------------------------------
# The benchmarks. Each: name, what it measures, the command per mode (None:
# no such run), metrics shown [(key, unit, "lower"|"higher" is better)],
# goals {metric: ([(reference, op, value)], text)} where reference is
# "abs" (the libgreen median itself), "native" or "go" (value times that
# median). Extra keys: env per mode, taskset (every mode on one CPU),
# threadmax (sample the kernel's thread count), server (echo: the command
# is a server driven by echo_load), partial_ok (native may run out of
# threads: exit 3 with the figures so far).
# ---------------------------------------------------------------------------
NS = ("ns_per_op", "ns", "lower")
BENCHES = [
    dict(name="create_join", what="create a thread and join it, one after another (examples/create_join)",
         native=[ex("create_join"), q(20000, 5000)], libgreen=[ex("create_join"), q(1000000, 200000)],
         go=[gobin("create_join"), q(1000000, 200000)],
         metrics=[NS], goals={"ns_per_op": ([("abs", "<=", 250)], "<= 250 ns")}),
    dict(name="pingpong_cond", what="two threads hand a turn over with a mutex + condvar, per switch (examples/pingpong cond; Go sync.Cond)",
         native=[ex("pingpong"), "cond", q(20000, 5000)], libgreen=[ex("pingpong"), "cond", q(1000000, 200000)],
         go=[gobin("pingpong"), "cond", q(1000000, 200000)],
         metrics=[NS], goals={"ns_per_op": ([("abs", "<=", 100)], "<= 100 ns/switch (Go sync.Cond ~131)")}),
    dict(name="pingpong_yield", what="two threads spin on a turn variable with sched_yield, per switch (examples/pingpong yield)",
         native=[ex("pingpong"), "yield", q(200000, 50000)], libgreen=[ex("pingpong"), "yield", q(1000000, 200000)],
         go=[gobin("pingpong"), "yield", q(1000000, 200000)],
         metrics=[NS], goals={"ns_per_op": ([("abs", "<=", 150)], "<= 150 ns/switch")}),
    dict(name="sem_handoff", what="two threads hand a token through two semaphores, per switch (examples/pingpong sem; Go: unbuffered channels)",
         native=[ex("pingpong"), "sem", q(20000, 5000)], libgreen=[ex("pingpong"), "sem", q(1000000, 200000)],
         go=[gobin("pingpong"), "chan", q(1000000, 200000)],
         metrics=[NS], goals={}),
    dict(name="mutex_uncontended", what="pthread_mutex_lock+unlock in one thread (tests/sync/bench_lock)",
         native=[bn("bench_lock"), q(50000000, 10000000)], libgreen=[bn("bench_lock"), q(50000000, 10000000)],
         go=[gobin("mutex"), "lock", q(50000000, 10000000)],
         metrics=[NS], goals={"ns_per_op": ([("native", "<=", 1.2)], "<= 1.2x native")}),
    dict(name="mutex_contended_1000", what="1,000 threads increment one counter under one mutex, per lock (tests/sync/bench_contended)",
         native=[bn("bench_contended"), "1000", q(10000, 2000)], libgreen=[bn("bench_contended"), "1000", q(10000, 2000)],
         go=[gobin("mutex"), "contended", "1000", q(10000, 2000)],
         metrics=[NS], goals={"ns_per_op": ([("native", "<=", 1.0)], "throughput >= native")}),
    dict(name="thread_ring_503", what="503 threads pass a token around a ring, per hop (Benchmarks Game thread-ring)",
         native=[bn("ring"), "503", q(20000, 5000)], libgreen=[bn("ring"), "503", q(2000000, 300000)],
         go=[gobin("ring"), "503", q(2000000, 300000)],
         metrics=[NS], goals={}),
    dict(name="sleeping_100k", what="100,000 threads asleep at once (default stacks): memory per thread, wall time, kernel threads (natively 10,000: more would take the machine's last pids, pid_max 32768, from everyone)",
         native=[bn("sleeping"), "10000", "5"], libgreen=[bn("sleeping"), q(100000, 20000), q(12, 5)],
         go=[gobin("sleeping"), q(100000, 20000), q(5, 3)], threadmax=True, partial_ok=True,
         metrics=[("threads", "", "higher"), ("total_b", "B/thread", "lower"), ("rss_b", "B/thread", "lower"),
                  ("pte_b", "B/thread", "lower"), ("kernel_b", "B/thread", "lower"), ("stack_b", "B/thread", "lower"),
                  ("create_s", "s", "lower"), ("wake_s", "s", "lower"), ("kthreads_max", "", "lower")],
         goals={"total_b": ([("abs", "<=", 8192)], "<= 8 KiB/thread all told (Go ~1.9 KiB)")}),
    dict(name="sleeping_100k_64k", what="the same with 64 KiB stacks (GREEN_STACK_SIZE=64k; natively ulimit -s 64, 10,000 threads)",
         native=["sh", "-c", 'ulimit -s 64 && exec "$0" "$@"', bn("sleeping"), "10000", "5"],
         libgreen=[bn("sleeping"), q(100000, 20000), q(10, 5)], env={"libgreen": {"GREEN_STACK_SIZE": "64k"}},
         go=None, threadmax=True, partial_ok=True,
         metrics=[("threads", "", "higher"), ("total_b", "B/thread", "lower"), ("rss_b", "B/thread", "lower"),
                  ("pte_b", "B/thread", "lower"), ("create_s", "s", "lower"), ("kthreads_max", "", "lower")],
         goals={"total_b": ([("abs", "<=", 8192)], "<= 8 KiB/thread all told")}),
    # glibc's own knobs for a smaller static TLS reserve (README "Compact G
    # blocks"): a G block is then 3,328 B instead of 4,672 B.
    dict(name="sleeping_100k_64k_compact", what="the same, 64 KiB stacks, GLIBC_TUNABLES=" + COMPACT_TLS + " (glibc's static TLS reserve for dlopen'ed libraries cut from 1,672 to 328 B; natively the same, 10,000 threads)",
         native=["sh", "-c", 'ulimit -s 64 && exec "$0" "$@"', bn("sleeping"), "10000", "5"],
         libgreen=[bn("sleeping"), q(100000, 20000), q(10, 5)],
         env={"native": {"GLIBC_TUNABLES": COMPACT_TLS}, "libgreen": {"GREEN_STACK_SIZE": "64k", "GLIBC_TUNABLES": COMPACT_TLS}},
         go=None, threadmax=True, partial_ok=True,
         metrics=[("threads", "", "higher"), ("total_b", "B/thread", "lower"), ("rss_b", "B/thread", "lower"),
                  ("pte_b", "B/thread", "lower"), ("create_s", "s", "lower"), ("kthreads_max", "", "lower")],
         goals={"total_b": ([("abs", "<=", 8192)], "<= 8 KiB/thread all told")}),
    # Every thread sleeps until one deadline fixed at start, so the deadline
    # must outlast creating them all: under libgreen 1,000,000 took 42 s on a
    # busy machine (sleeping fails, rather than measure, when it was too short).
    dict(name="sleeping_1m", what="1,000,000 threads asleep at once (GREEN_STACK_SIZE=64k: 8 MiB stacks would need ~13 GB; natively ulimit -s 64: shows where it stops, holding the machine's last pids for ~5 s)",
         native=["sh", "-c", 'ulimit -s 64 && exec "$0" "$@"', bn("sleeping"), q(1000000, 200000), "5"],
         libgreen=[bn("sleeping"), q(1000000, 200000), q(120, 40)], env={"libgreen": {"GREEN_STACK_SIZE": "64k"}},
         go=[gobin("sleeping"), q(1000000, 200000), q(20, 8)], threadmax=True, partial_ok=True, reps=1,
         metrics=[("threads", "", "higher"), ("total_b", "B/thread", "lower"), ("rss_b", "B/thread", "lower"),
                  ("pte_b", "B/thread", "lower"), ("kernel_b", "B/thread", "lower"),
                  ("create_s", "s", "lower"), ("wake_s", "s", "lower"), ("kthreads_max", "", "lower")],
         goals={"total_b": ([("abs", "<=", 8192)], "<= 8 KiB/thread all told")}),
    dict(name="sleeping_1m_compact", what="1,000,000 threads asleep at once, GREEN_STACK_SIZE=64k, GLIBC_TUNABLES=" + COMPACT_TLS + " (libgreen only: native stops at pid_max, see sleeping_1m)",
         native=None, libgreen=[bn("sleeping"), q(1000000, 200000), q(90, 40)],
         env={"libgreen": {"GREEN_STACK_SIZE": "64k", "GLIBC_TUNABLES": COMPACT_TLS}},
         go=None, threadmax=True, partial_ok=True, reps=1,
         metrics=[("threads", "", "higher"), ("total_b", "B/thread", "lower"), ("rss_b", "B/thread", "lower"),
                  ("pte_b", "B/thread", "lower"), ("kernel_b", "B/thread", "lower"),
                  ("create_s", "s", "lower"), ("wake_s", "s", "lower"), ("kthreads_max", "", "lower")],
         goals={"total_b": ([("abs", "<=", 8192)], "<= 8 KiB/thread all told")}),
    dict(name="echo_1000", what="echo server, 1,000 connections, 64-byte requests in a closed loop (tests/io/echo server; client: tests/bench/echo_load, epoll, native)",
         native=[bn("echo"), "server", "1000"], libgreen=[bn("echo"), "server", "1000"],
         go=[gobin("echo_server"), "server", "1000"], server=("1000", q(3, 2)), min_reps=5,
         metrics=[("rps", "req/s", "higher"), ("p50_us", "us", "lower"), ("p99_us", "us", "lower"),
                  ("server_threads", "", "lower")],
         goals={}),
    dict(name="echo_10000", what="echo server, 10,000 connections (as echo_1000)",
         native=[bn("echo"), "server", "10000"], libgreen=[bn("echo"), "server", "10000"],
         go=[gobin("echo_server"), "server", "10000"], server=("10000", q(3, 2)), min_reps=5,
         metrics=[("rps", "req/s", "higher"), ("p50_us", "us", "lower"), ("p99_us", "us", "lower"),
                  ("server_threads", "", "lower")],
         goals={"rps": ([("native", ">=", 1.0), ("go", ">=", 1.0)], ">= native and Go"),
                "p99_us": ([("native", "<=", 1.0)], "<= native")}),
    dict(name="cpu_parallel_2", what="CPU-bound work in 2 threads: speedup over 1 thread",
         native=[bn("cpu_parallel"), "2", q(200, 50)], libgreen=[bn("cpu_parallel"), "2", q(200, 50)],
         go=[gobin("cpu_parallel"), "2", q(200, 50)],
         metrics=[("speedup", "x", "higher"), ("tn_ms", "ms", "lower")],
         goals={"speedup": ([("native", ">=", 0.95)], "within 5% of native")}),
    dict(name="cpu_parallel_64", what="the same work split over 64 threads (more threads than Ps)",
         native=[bn("cpu_parallel"), "64", q(200, 50)], libgreen=[bn("cpu_parallel"), "64", q(200, 50)],
         go=[gobin("cpu_parallel"), "64", q(200, 50)],
         metrics=[("speedup", "x", "higher"), ("tn_ms", "ms", "lower")],
         goals={"speedup": ([("native", ">=", 0.95)], "within 5% of native")}),
    dict(name="fileio", what="16 threads pread 4 KiB blocks of their own file, every 8th op pwrite+fsync (syscall sections, sysmon handoff)",
         native=[bn("fileio"), "16", q(8000, 2000), TMP], libgreen=[bn("fileio"), "16", q(8000, 2000), TMP], go=None,
         metrics=[NS], goals={}),
    dict(name="sleep_accuracy", what="100 threads x 100 sleeps of 50 us..2 ms: lateness (actual - requested)",
         native=[bn("sleep_accuracy"), "100", q(100, 30)], libgreen=[bn("sleep_accuracy"), "100", q(100, 30)],
         go=[gobin("sleep_accuracy"), "100", q(100, 30)],
         metrics=[("p50_us", "us late", "lower"), ("p99_us", "us late", "lower")],
         goals={}),
    dict(name="handoff_latency", what="one CPU (taskset -c 0 both ways; libgreen: GREEN_PROCS=1): a thread blocks in semop(), how soon does another run",
         native=[bn("handoff_latency"), q(2000, 500)], libgreen=[bn("handoff_latency"), q(2000, 500)], go=None,
         taskset=True, env={"libgreen": {"GREEN_PROCS": "1"}},
         metrics=[("p50_us", "us", "lower"), ("p99_us", "us", "lower")],
         goals={}),
    dict(name="handoff_latency_futex", what="as handoff_latency, blocking in a raw syscall(SYS_futex) wait on shared memory: a call not known to block, so sysmon must notice",
         native=[bn("handoff_latency"), q(2000, 500), "futex"], libgreen=[bn("handoff_latency"), q(2000, 500), "futex"], go=None,
         taskset=True, env={"libgreen": {"GREEN_PROCS": "1"}},
         metrics=[("p50_us", "us", "lower"), ("p99_us", "us", "lower")],
         goals={}),
]

RESULT_RE = re.compile(r"^RESULT name=(\S+)(.*)$", re.M)


def parse_result(text):
    m = None
    for m in RESULT_RE.finditer(text):
        pass
    if not m:
        return None
    out = {}
    for kv in m.group(2).split():
        k, _, v = kv.partition("=")
        try:
            out[k] = float(v)
        except ValueError:
            pass
    return out


def env_for(mode, bench):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env["GREEN_PROCS"] = PROCS
    if mode == "libgreen":
        env["LD_PRELOAD"] = LIB
    env.update(bench.get("env", {}).get(mode, {}))
    return env


def run_plain(bench, mode, cmd, timeout):
    """-> (metrics or None, error text or None, note)"""
    if bench.get("taskset"):
        cmd = ["taskset", "-c", "0"] + cmd
    if bench.get("threadmax"):
        cmd = [os.path.join(TOOLS, "threadmax"), "-i", "2000", "--"] + cmd
    try:
        p = subprocess.run(cmd, env=env_for(mode, bench), capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % timeout, None
    res = parse_result(p.stdout)
    note = None
    if bench.get("threadmax"):
        m = re.search(r"THREADMAX max=(\d+)", p.stderr)
        if res is not None and m:
            res["kthreads_max"] = float(m.group(1))
    if p.returncode == 3 and bench.get("partial_ok") and res is not None:
        m = re.search(r"^FAILED_AT (\d+) (.*)$", p.stdout, re.M)
        note = "stops at %s threads (%s)" % (m.group(1), m.group(2)) if m else "stops early"
        return res, None, note
    if p.returncode != 0 or res is None:
        tail = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or ["no output"])[-1]
        return None, "exit %d: %s" % (p.returncode, tail), None
    return res, None, note


def run_server(bench, mode, cmd, timeout):
    """Start the echo server, load it with echo_load (run natively), check both."""
    conns, secs = bench["server"]
    try:
        # the server needs one fd per connection: raise the soft limit
        srv = subprocess.Popen(cmd, env=env_for(mode, bench), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=raise_nofile)
    except OSError as e:
        return None, str(e), None
    try:
        line = srv.stdout.readline()
        m = re.match(r"PORT (\d+)", line)
        if not m:
            srv.kill()
            return None, "server did not start: %r %s" % (line, srv.stderr.read()[-200:]), None
        load_env = dict(os.environ)
        load_env.pop("LD_PRELOAD", None)
        try:
            lp = subprocess.run([bn("echo_load"), m.group(1), conns, secs], env=load_env, capture_output=True,
                                text=True, timeout=timeout, preexec_fn=raise_nofile)
        except subprocess.TimeoutExpired:
            srv.kill()
            return None, "client timed out", None
        try:
            out, err = srv.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            srv.kill()
            return None, "server did not exit after the client closed", None
        res = parse_result(lp.stdout)
        if lp.returncode != 0 or res is None:
            return None, "client exit %d: %s" % (lp.returncode, (lp.stderr.strip().splitlines() or ["?"])[-1]), None
        if srv.returncode != 0 or "connections: ok" not in out:
            return None, "server exit %d: %s" % (srv.returncode, (err.strip().splitlines() or ["?"])[-1]), None
        pm = re.search(r"^PEAK_THREADS (\d+)", out, re.M)
        if pm:
            res["server_threads"] = float(pm.group(1))
        return res, None, None
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def build_go():
    if not shutil.which("go"):
        print("(go not installed: apt-get install golang-go for the Go column)")
        return False
    env = dict(os.environ, GOCACHE=os.path.join(BIN, "go-cache"), GOPATH=os.path.join(BIN, "go-path"),
               GO111MODULE="off", CGO_ENABLED="0")
    env.pop("LD_PRELOAD", None)
    ok = True
    for f in sorted(os.listdir(os.path.join(SRC, "go"))):
        if f.endswith(".go"):
            src, out = os.path.join(SRC, "go", f), gobin(f[:-3])
            if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(src):
                continue
            p = subprocess.run(["go", "build", "-o", out, src], env=env, capture_output=True, text=True)
            if p.returncode:
                print("go build %s failed: %s" % (f, p.stderr.strip()))
                ok = False
    return ok


def stats(values):
    if not values:
        return None
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": values}


def fmt(v):
    if v is None:
        return "-"
    a = abs(v)
    if a >= 100000:
        return "{:,.0f}".format(v)
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def cell(s, partial=False):
    if s is None:
        return "-"
    txt = fmt(s["median"])
    if s["n"] > 1:
        txt += " (%s-%s)" % (fmt(s["min"]), fmt(s["max"]))
    return txt + ("*" if partial else "")


def paired(per_rep, key, ref):
    """libgreen's value over ref's, round by round (the modes of a round run
    back to back, so a machine that drifts between rounds cancels out):
    {"median", "values"} of the ratios, or None without a complete round."""
    ratios = [lg[key] / o[key] for lg, o in zip(per_rep["libgreen"], per_rep[ref])
              if lg and o and key in lg and key in o and lg[key] > 0 and o[key] > 0]
    return {"median": statistics.median(ratios), "values": ratios} if ratios else None


def gain(better, ratio):
    """how many times better libgreen is than the other (> 1: libgreen
    better), from the median of the paired ratios"""
    if ratio is None:
        return None
    return 1 / ratio["median"] if better == "lower" else ratio["median"]


def goal_met(goals, lg, ratios):
    """goals against a reference compare the median paired ratio with the
    factor; absolute ones the median value"""
    if not goals:
        return None
    if lg is None:
        return False
    for ref, op, val in goals:
        v = lg["median"] if ref == "abs" else (ratios[ref]["median"] if ratios.get(ref) else None)
        if v is None:
            continue  # no reference (e.g. Go not installed): not judged
        if (op == "<=" and v > val) or (op == ">=" and v < val):
            return False
    return True


def main():
    os.makedirs(TMP, exist_ok=True)
    have_go = build_go()
    raise_nofile()
    benches = [b for b in BENCHES if not ONLY or b["name"] in ONLY]
    unknown = set(ONLY) - {b["name"] for b in BENCHES}
    if unknown:
        sys.exit("BENCH_ONLY: unknown benchmark(s) %s; known: %s" % (
            ", ".join(sorted(unknown)), ", ".join(b["name"] for b in BENCHES)))
    t_start = time.time()
    print("make bench: %d benchmarks x %d repetitions, GREEN_PROCS=%s%s" % (
        len(benches), REPS, PROCS, " (BENCH_QUICK)" if QUICK else ""))
    results = []
    for b in benches:
        t0 = time.time()
        per_rep = {m: [] for m in MODES}  # one result (None: failed, not run) per round
        errors = {m: [] for m in MODES}
        notes = {}
        reps = min(REPS, b.get("reps", REPS))
        if not QUICK:
            reps = max(reps, b.get("min_reps", 0))
        for _ in range(reps):
            for mode in MODES:
                cmd = b.get(mode)
                res = None
                if cmd is not None and (mode != "go" or have_go):
                    runner = run_server if b.get("server") else run_plain
                    res, err, note = runner(b, mode, cmd, 600)
                    if err:
                        errors[mode].append(err)
                    if note:
                        notes[mode] = note
                per_rep[mode].append(res)
        rows = []
        for key, unit, better in b["metrics"]:
            cols = {m: stats([r[key] for r in per_rep[m] if r and key in r]) for m in MODES}
            ratios = {m: paired(per_rep, key, m) for m in ("native", "go")}
            rows.append({"metric": key, "unit": unit, "better": better,
                         "native": cols["native"], "libgreen": cols["libgreen"], "go": cols["go"],
                         "ratio_to_native": ratios["native"], "ratio_to_go": ratios["go"],
                         "gain_vs_native": gain(better, ratios["native"]),
                         "gain_vs_go": gain(better, ratios["go"]),
                         "goal": b["goals"][key][1] if key in b["goals"] else None,
                         "goal_met": goal_met(b["goals"][key][0], cols["libgreen"], ratios) if key in b["goals"] else None})
        entry = {"bench": b["name"], "what": b["what"], "reps": reps, "seconds": round(time.time() - t0, 1),
                 "commands": {m: " ".join(b[m]) for m in MODES if b.get(m)}, "env": b.get("env", {}),
                 "errors": {m: e for m, e in errors.items() if e}, "notes": notes, "rows": rows}
        results.append(entry)
        print_bench(entry)
    doc = {"schema": 1, "date": datetime.datetime.now().isoformat(timespec="seconds"),
           "machine": {"cpus": os.cpu_count(), "kernel": platform.release(),
                       "glibc": platform.libc_ver()[1], "loadavg_at_end": os.getloadavg()},
           "green_procs": int(PROCS), "reps": REPS, "quick": QUICK, "go": have_go,
           "seconds": round(time.time() - t_start, 1), "benchmarks": results}
    path = os.path.join(BIN, "results.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
    print()
    print("gain = how many times better libgreen is (>1: libgreen better), the median over rounds of the ratio")
    print("within a round (each round runs native, libgreen and Go back to back); * = natively the run stopped early")
    print("results: %s (%.0f s; machine load %.1f)" % (path, doc["seconds"], os.getloadavg()[0]))
    failed = [e["bench"] for e in results if e["errors"]]
    if failed:
        print("runs that failed (no number taken): %s" % ", ".join(failed))
    return 0


HEADER = "%-21s %-17s %22s %22s %22s %8s %8s  %s"


def print_bench(e):
    if not hasattr(print_bench, "done"):
        print_bench.done = True
        print(HEADER % ("benchmark", "metric", "native", "libgreen", "go", "gain/nat", "gain/go", "goal"))
    for i, r in enumerate(e["rows"]):
        g = r["goal"] or ""
        if r["goal"]:
            g = ("MET " if r["goal_met"] else "MISSED " if r["goal_met"] is False else "") + g
        print(HEADER % (e["bench"] if i == 0 else "", (r["metric"] + " " + r["unit"]).strip()[:17],
                        cell(r["native"], "native" in e["notes"]), cell(r["libgreen"], "libgreen" in e["notes"]),
                        cell(r["go"], "go" in e["notes"]),
                        fmt(r["gain_vs_native"]) + "x" if r["gain_vs_native"] else "-",
                        fmt(r["gain_vs_go"]) + "x" if r["gain_vs_go"] else "-", g))
    for m, n in e["notes"].items():
        print("%-22s   %s: %s" % ("", m, n))
    for m, errs in e["errors"].items():
        print("%-22s   %s FAILED %d of %d runs: %s" % ("", m, len(errs), e["reps"], errs[-1]))
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
