#!/usr/bin/env bash
# greenstat_overhead.sh [WORKLOAD [ARGS...]]: what does tracing cost?
#
#   BUILD=<abs>/build bash tests/bench/greenstat_overhead.sh
#
# 1. A create+join workload (tests/ebpf/createjoin.c, or WORKLOAD) run
#    natively, plain vs under `greenstat --` (goal: < 5% overhead).
# 2. The same under LD_PRELOAD=libgreen.so, its USDT probes not attached
#    (plain) vs attached (`greenstat --libgreen`).
# 3. A micro-benchmark of one unattached USDT probe vs no probe at all:
#    an unattached probe is a single nop and must cost nothing measurable.
# The workload reports the time of its own loop (a line "elapsed_ns=N"), so
# greenstat's start-up (loading BPF) is not counted.  Medians of $RUNS runs
# (default 7).  Prints a table; always exits 0 (the bench runner reads it).
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
GS=$BUILD/ebpf/greenstat
LIB=$BUILD/libgreen.so
T=$BUILD/ebpf-tests
RUNS=${RUNS:-7}

say() { echo "greenstat_overhead: $*"; }

if [ ! -x "$GS" ]; then say "SKIP: $GS not built (make)"; exit 0; fi
if [ "$(id -u)" != 0 ]; then say "SKIP: greenstat needs root (CAP_BPF + CAP_PERFMON)"; exit 0; fi
mkdir -p "$T"
if [ $# -gt 0 ]; then
	WORK=("$@")
else
	gcc -O2 -Wall -Wextra -Werror -pthread "$ROOT/tests/ebpf/createjoin.c" -o "$T/createjoin" || exit 0
	WORK=("$T/createjoin" 5000)
fi
gcc -O2 -Wall -Wextra -Werror "$ROOT/tests/ebpf/probecost.c" -o "$T/probecost" || exit 0

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# measure ENV... -- CMD...: median elapsed_ns of $RUNS runs of CMD (output's elapsed_ns= line)
measure() {
	local envs=() i out
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	for ((i = 0; i < RUNS; i++)); do
		out=$(env "${envs[@]}" "$@" 2>&1 | sed -n 's/.*elapsed_ns=\([0-9]*\).*/\1/p' | head -1)
		[ -n "$out" ] && echo "$out"
	done | median
}

row() { # LABEL BASE_NS TRACED_NS
	awk -v l="$1" -v a="$2" -v b="$3" 'BEGIN {
		if (a == "nan" || b == "nan" || a == 0) { printf "%-34s %12s %12s %9s\n", l, "-", "-", "n/a"; exit }
		printf "%-34s %9.2f ms %9.2f ms %+8.1f%%\n", l, a / 1e6, b / 1e6, (b - a) * 100 / a }'
}

echo "greenstat overhead: ${WORK[*]} (median of $RUNS runs, loop time only)"
printf "%-34s %12s %12s %9s\n" "WORKLOAD" "PLAIN" "TRACED" "OVERHEAD"
nat_plain=$(measure -- "${WORK[@]}")
nat_traced=$(measure -- "$GS" -- "${WORK[@]}")
row "native, greenstat --" "$nat_plain" "$nat_traced"

if [ -f "$LIB" ] && GREEN_PROCS=2 LD_PRELOAD=$LIB timeout 60 "${WORK[@]}" >/dev/null 2>&1; then
	lg_plain=$(measure GREEN_PROCS=2 LD_PRELOAD="$LIB" -- "${WORK[@]}")
	lg_traced=$(measure GREEN_PROCS=2 -- "$GS" --libgreen "$LIB" -- "${WORK[@]}")
	row "libgreen, probes off vs attached" "$lg_plain" "$lg_traced"
else
	printf "%-34s %s\n" "libgreen" "skipped: $LIB missing or the workload fails under it"
fi

probe=() none=()
for ((i = 0; i < RUNS; i++)); do
	line=$("$T/probecost" 20000000)
	probe+=("$(echo "$line" | sed -n 's/.*probe_ns=\([0-9.]*\).*/\1/p')")
	none+=("$(echo "$line" | sed -n 's/.*none_ns=\([0-9.]*\).*/\1/p')")
done
p=$(printf "%s\n" "${probe[@]}" | median)
n=$(printf "%s\n" "${none[@]}" | median)
awk -v p="$p" -v n="$n" 'BEGIN {
	printf "%-34s %9.3f ns %9.3f ns %+8.3f ns\n", "one call: no probe vs unattached", n, p, p - n }'
echo "goal: native overhead < 5%; an unattached probe (a nop) ~0 ns"
exit 0
