#!/usr/bin/env bash
# tests/ebpf/run.sh: acceptance tests of greenstat (issue 7).
#   BUILD=<abs>/build bash tests/ebpf/run.sh
# Builds its test programs into $BUILD/ebpf-tests, runs greenstat on them and
# checks exact counts from the kernel's side.  One PASS/FAIL/SKIP line per
# test, then "N passed, N failed, N skipped"; non-zero exit if any failed.
# No timing thresholds: every check is a count, a status or a message.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$(cd "$HERE/../.." && pwd)/build}
GS=$BUILD/ebpf/greenstat
T=$BUILD/ebpf-tests
OUT=$T/out
J="python3 $HERE/gsjson.py"
TMO="timeout -k 5 120"
pass=0 fail=0 skip=0

ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1${2:+: $2}"; fail=$((fail + 1)); [ -n "${3:-}" ] && sed 's/^/    /' "$3" | head -20; }
sk() { echo "SKIP $1: $2"; skip=$((skip + 1)); }
finish() {
	if [ "$skip" -gt 0 ]; then
		echo "$pass passed, $fail failed, $skip skipped"
	else
		echo "$pass passed, $fail failed"
	fi
	[ "$fail" -eq 0 ]
	exit
}

# gs NAME ARGS...: run greenstat, stdout -> $OUT/NAME.json, stderr -> $OUT/NAME.err,
# status -> $rc
gs() {
	local name=$1
	shift
	$TMO "$GS" "$@" >"$OUT/$name.json" 2>"$OUT/$name.err"
	rc=$?
}

# expect NAME EXPR...: PASS if greenstat exited 0, the JSON matches the schema
# and every expression holds (see gsjson.py).
expect() {
	local name=$1
	shift
	if [ "$rc" -ne 0 ]; then
		ko "$name" "greenstat exited $rc" "$OUT/$name.err"
	elif ! $J schema "$OUT/$name.json" >"$OUT/$name.chk" 2>&1; then
		ko "$name" "schema" "$OUT/$name.chk"
	elif ! $J check "$OUT/$name.json" "$@" >"$OUT/$name.chk" 2>&1; then
		ko "$name" "" "$OUT/$name.chk"
	else
		ok "$name"
	fi
}

# ---- build the test programs -------------------------------------------------
mkdir -p "$T" "$OUT"
if [ ! -x "$GS" ]; then
	echo "FAIL build: $GS missing (make -C ebpf BUILD=$BUILD/ebpf)"
	fail=1
	finish
fi
CFLAGS="-O2 -g -Wall -Wextra -Werror -pthread"
for p in threads forker switches hold createjoin; do
	if ! gcc $CFLAGS "$HERE/$p.c" -o "$T/$p" 2>"$OUT/cc-$p.err"; then
		ko "compile $p" "" "$OUT/cc-$p.err"
		finish
	fi
done
if ! gcc $CFLAGS -fPIC -shared "$HERE/libgreen_fake.c" -o "$T/libgreen_fake.so" -ldl 2>"$OUT/cc-fake.err"; then
	ko "compile libgreen_fake.so" "" "$OUT/cc-fake.err"
	finish
fi
FAKE=$T/libgreen_fake.so

if [ "$(id -u)" != 0 ]; then
	echo "SKIP all: greenstat needs root (CAP_BPF + CAP_PERFMON); run make test as root"
	skip=1
	finish
fi

# ---- kernel-side counts --------------------------------------------------------
# Convention: threads_created counts every task of the tree, the command's
# main thread included (N threads made by main -> N + 1); peak likewise.
gs created_exact --json -- "$T/threads" 20 1
expect created_exact 'k0["threads_created"] == 21' 'k0["threads_exited"] == 21' \
	'k0["peak_threads"] == 2' 'r0["exit_status"] == 0' 'r0["mode"] == "plain"'

gs peak_all_at_once --json -- "$T/threads" 8 8
expect peak_all_at_once 'k0["threads_created"] == 9' 'k0["peak_threads"] == 9' \
	'k0["threads_exited"] == 9'

gs peak_in_waves --json -- "$T/threads" 12 4
expect peak_in_waves 'k0["threads_created"] == 13' 'k0["peak_threads"] == 5'

gs fork_follow --json -- "$T/forker"
expect fork_follow 'k0["threads_created"] == 7' 'k0["threads_exited"] == 7' \
	'any(s["name"] == "clone" or s["name"] == "clone3" for s in k0["syscalls_top"])'

gs fork_exec_follow --json -- "$T/forker" exec "$T/threads" 3 3
expect fork_exec_follow 'k0["threads_created"] == 7' 'k0["threads_exited"] == 7'

if unshare --pid --fork true 2>/dev/null; then
	# unshare, its forked child (pid 1 inside), 5 threads: all alive at once
	gs pid_namespace --json -- unshare --pid --fork "$T/threads" 5 5
	expect pid_namespace 'k0["threads_created"] == 7' 'k0["threads_exited"] == 7' \
		'k0["peak_threads"] == 7'
else
	sk pid_namespace "unshare --pid does not work here"
fi

GREENSTAT_RAW_TP=1 gs raw_tp_fallback --json -- "$T/threads" 6 6
expect raw_tp_fallback 'r0["hooks"] == "raw_tp"' 'k0["threads_created"] == 7' \
	'k0["peak_threads"] == 7' 'r0["switch_check"]["ok"]'

gs tp_btf_default --json -- "$T/threads" 2 2
expect tp_btf_default 'r0["hooks"] == "tp_btf"'

# ---- context switches vs wait4 rusage --------------------------------------------
gs switches_agree --json -- "$T/switches" 200
if grep -q warning "$OUT/switches_agree.err"; then
	ko switches_agree "unexpected warning" "$OUT/switches_agree.err"
else
	expect switches_agree 'r0["switch_check"]["ok"]' \
		'abs(r0["switch_check"]["bpf"] - r0["switch_check"]["rusage"]) <= r0["switch_check"]["tolerance"]' \
		'k0["voluntary_switches"] >= 400' \
		'r0["switch_check"]["rusage"] == r0["rusage"]["voluntary_switches"] + r0["rusage"]["involuntary_switches"]'
fi

# The child sleeps 200 times, the parent never waits for it: rusage cannot
# see those switches, BPF does, and greenstat must say so.
gs switches_disagree_warns --json -- "$T/switches" 200 orphan
if ! grep -q "warning: plain run: BPF counted" "$OUT/switches_disagree_warns.err"; then
	ko switches_disagree_warns "no warning" "$OUT/switches_disagree_warns.err"
else
	expect switches_disagree_warns 'not r0["switch_check"]["ok"]' \
		'r0["switch_check"]["bpf"] > r0["switch_check"]["rusage"] + 150'
fi

# ---- -p PID -----------------------------------------------------------------------------
# hold 3 4: 4 threads (main + 3) before attach, then 4 more all alive with them.
rm -f "$T/hold.fifo" && mkfifo "$T/hold.fifo"
# It runs with the stand-in libgreen preloaded: -p must find it in
# /proc/PID/maps and attach its probes (the 4 late threads are 4 Gs).
LD_PRELOAD=$FAKE "$T/hold" 3 4 <"$T/hold.fifo" >"$OUT/hold.out" &
hold_pid=$!
exec 7>"$T/hold.fifo"
for _ in $(seq 200); do grep -q ready "$OUT/hold.out" && break; sleep 0.05; done
$TMO "$GS" --json -p "$hold_pid" >"$OUT/attach_pid.json" 2>"$OUT/attach_pid.err" &
gs_pid=$!
for _ in $(seq 400); do grep -q "tracing" "$OUT/attach_pid.err" && break; sleep 0.05; done
echo go >&7
exec 7>&-
wait "$hold_pid"
wait "$gs_pid"
rc=$?
expect attach_pid 'r0["mode"] == "pid"' 'd["pid"] > 0' 'k0["threads_at_start"] == 4' \
	'k0["threads_created"] == 4' 'k0["threads_exited"] == 8' 'k0["peak_threads"] == 8' \
	'r0["exit_status"] is None' 'r0["rusage"] is None' \
	'g0["library"].endswith("/libgreen_fake.so")' 'g0["gs_created"] == 4'

# ---- USDT attach path with a stand-in library -----------------------------------------
gs usdt_fake --json --libgreen "$FAKE" -- "$T/threads" 6 6
expect usdt_fake 'r0["mode"] == "libgreen"' 'g0["gs_created"] == 6' 'g0["gs_exited"] == 6' \
	'g0["peak_gs"] == 6' 'g0["steals"] == 3' 'g0["stolen_gs"] == 6' 'g0["ms_created"] == 1' \
	'g0["probes"]["handoff"] == "absent" and g0["handoffs"] is None' \
	'g0["probes"]["preempt"] == "absent" and g0["preemptions"] is None' \
	'g0["probes"]["park"] == "off" and g0["parks"] is None' 'k0["threads_created"] == 7'

gs usdt_fake_park --json --park --libgreen "$FAKE" -- "$T/threads" 2 2
expect usdt_fake_park 'g0["probes"]["park"] == "absent"' 'g0["probes"]["ready"] == "absent"' \
	'g0["gs_created"] == 2'

gs usdt_fake_table --libgreen "$FAKE" -- "$T/threads" 3 3
if [ "$rc" -eq 0 ] && grep -Eq '^  preemptions +n/a$' "$OUT/usdt_fake_table.json" &&
	grep -Eq '^  Gs created +3$' "$OUT/usdt_fake_table.json"; then
	ok usdt_fake_table
else
	ko usdt_fake_table "table lacks 'Gs created 3' / 'preemptions n/a'" "$OUT/usdt_fake_table.json"
fi

# ---- --compare, JSON and SVG -----------------------------------------------------------
gs compare_json --json --compare --libgreen "$FAKE" --plot "$OUT/compare.svg" -- "$T/threads" 8 8
expect compare_json 'len(d["runs"]) == 2' 'r0["mode"] == "native" and r1["mode"] == "libgreen"' \
	'g0 is None and g1["gs_created"] == 8' 'k0["peak_threads"] == 9 and k1["peak_threads"] == 9' \
	'd["command"][-2:] == ["8", "8"]'

if python3 - "$OUT/compare.svg" >"$OUT/svg.chk" 2>&1 <<'EOF'
import sys, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == ns + "svg", root.tag
lines = {p.get("data-mode"): p.get("points").split() for p in root.iter(ns + "polyline")}
assert set(lines) == {"native", "libgreen"}, lines.keys()
for mode, pts in lines.items():
    assert len(pts) >= 2, (mode, pts)
    for p in pts:
        x, y = map(float, p.split(","))
        assert 0 <= x <= float(root.get("width")) and 0 <= y <= float(root.get("height")), p
text = " ".join("".join(t.itertext()) for t in root.iter(ns + "text"))
for label in ("time since start (ms)", "kernel threads alive", "native", "libgreen"):
    assert label in text, label
EOF
then ok svg_wellformed; else ko svg_wellformed "" "$OUT/svg.chk"; fi

gs compare_table --compare --libgreen "$FAKE" -- "$T/threads" 4 4
wide=$(awk 'length > 80' "$OUT/compare_table.json" | wc -l)
if [ "$rc" -eq 0 ] && [ "$wide" -eq 0 ] && grep -q '^METRIC  *native  *libgreen  *RATIO$' "$OUT/compare_table.json" &&
	grep -Eq '^peak threads alive +5 +5 +1\.00x$' "$OUT/compare_table.json"; then
	ok compare_table_80cols
else
	ko compare_table_80cols "rc=$rc, $wide lines over 80 columns" "$OUT/compare_table.json"
fi

gs live_interval -i 5 -- "$T/switches" 100
if [ "$rc" -eq 0 ] && grep -q '^TIME(s) ' "$OUT/live_interval.json" &&
	[ "$(grep -cE '^[0-9]+\.[0-9]{3} ' "$OUT/live_interval.json")" -ge 1 ]; then
	ok live_interval
else
	ko live_interval "rc=$rc" "$OUT/live_interval.json"
fi

# ---- exit status and errors ------------------------------------------------------------
gs exit_status --json -- sh -c 'exit 3'
if [ "$rc" -eq 3 ] && $J check "$OUT/exit_status.json" 'r0["exit_status"] == 3' >"$OUT/exit_status.chk"; then
	ok exit_status
else
	ko exit_status "rc=$rc (want 3)" "$OUT/exit_status.chk"
fi

gs exit_status_compare --json --compare --libgreen "$FAKE" -- sh -c 'exit 5'
if [ "$rc" -eq 5 ]; then ok exit_status_compare; else ko exit_status_compare "rc=$rc (want 5)"; fi

gs duration_stops_command -d 1 --json -- sleep 60
if [ "$rc" -eq 143 ]; then ok duration_stops_command; else ko duration_stops_command "rc=$rc (want 143: SIGTERM)" "$OUT/duration_stops_command.err"; fi

# err NAME WANT_RC_OR_ANY REGEX: greenstat failed with a message matching REGEX
err() {
	if [ "$rc" -ne 0 ] && { [ "$2" = any ] || [ "$rc" -eq "$2" ]; } && grep -Eq "$3" "$OUT/$1.err"; then
		ok "$1"
	else
		ko "$1" "rc=$rc, want ${2} and /$3/" "$OUT/$1.err"
	fi
}

gs err_command_not_found --json -- no-such-command-greenstat
err err_command_not_found 127 'no-such-command-greenstat: command not found'

gs err_command_path_not_found --json -- "$T/does-not-exist"
err err_command_path_not_found 127 'does-not-exist: command not found'

"$T/threads" 1 1 >/dev/null &
gone=$!
wait $gone
gs err_pid_gone --json -p "$gone"
err err_pid_gone any "no process $gone \(it exited before greenstat could attach\)"

GREENSTAT_BTF=/nonexistent/vmlinux gs err_no_btf --json -- true
if grep -q "CONFIG_DEBUG_INFO_BTF=y" "$OUT/err_no_btf.err"; then
	err err_no_btf any 'no kernel BTF \(/nonexistent/vmlinux'
else
	ko err_no_btf "message does not name CONFIG_DEBUG_INFO_BTF" "$OUT/err_no_btf.err"
fi

if command -v setpriv >/dev/null; then
	$TMO setpriv --reuid=65534 --regid=65534 --clear-groups "$GS" --json -- true \
		>"$OUT/err_not_root.json" 2>"$OUT/err_not_root.err"
	rc=$?
	if grep -q "sudo" "$OUT/err_not_root.err"; then
		err err_not_root any 'missing CAP_BPF and CAP_PERFMON'
	else
		ko err_not_root "message does not say how to run it (sudo)" "$OUT/err_not_root.err"
	fi
else
	sk err_not_root "setpriv not installed"
fi

libc_a=$(gcc -print-file-name=libc.a)
if [ -f "$libc_a" ] && gcc -static -O2 "$HERE/static_hello.c" -o "$T/static_hello" 2>"$OUT/cc-static.err"; then
	gs err_static_compare --compare -- "$T/static_hello"
	err err_static_compare any 'statically linked .*libgreen cannot be preloaded into a static binary'
	gs static_plain_ok --json -- "$T/static_hello"
	expect static_plain_ok 'k0["threads_created"] == 1' 'r0["exit_status"] == 0'
else
	sk err_static_compare "no libc.a (apt-get install libc6-dev) or gcc -static failed"
	sk static_plain_ok "no static binary"
fi

# ---- the real libgreen ---------------------------------------------------------------------
LIB=$BUILD/libgreen.so
if [ ! -f "$LIB" ]; then
	sk libgreen_real "$LIB not built"
	sk libgreen_compare "$LIB not built"
elif GREEN_PROCS=2 LD_PRELOAD=$LIB timeout 20 "$T/threads" 4 4 >"$OUT/libgreen_smoke.out" 2>&1; st=$?; [ $st -ne 0 ]; then
	echo "    libgreen smoke test output:" && sed 's/^/    /' "$OUT/libgreen_smoke.out" | head -5
	sk libgreen_real "!!! $LIB does not run 'threads 4 4' (status $st): fix libgreen first"
	sk libgreen_compare "!!! $LIB does not work"
else
	# 50 Gs alive at once, on GREEN_PROCS=2: the kernel sees only the Ms.
	GREEN_PROCS=2 gs libgreen_real --json --libgreen "$LIB" -- "$T/threads" 50 50
	expect libgreen_real 'r0["exit_status"] == 0' 'k0["peak_threads"] <= 2 + 4' \
		'g0["gs_created"] == 50' 'g0["probes"]["g_create"] == "attached"' \
		'g0["peak_gs"] is None or 1 <= g0["peak_gs"] <= 51' 'r0["switch_check"]["ok"]'
	GREENSTAT_LIBGREEN= GREEN_PROCS=2 gs libgreen_compare --json --compare -- "$T/threads" 50 50
	expect libgreen_compare 'k0["peak_threads"] == 51' 'k1["peak_threads"] <= 2 + 4' \
		'g0 is None and g1["gs_created"] == 50' \
		'g1["library"].endswith("/libgreen.so")'
fi

finish
