#!/usr/bin/env bash
# make bench: the benchmark table (tests/bench/bench.py: every benchmark
# natively, under libgreen and as its Go twin, BENCH_REPS repetitions,
# table + $BUILD/bench/results.json), then what greenstat's tracing costs
# (greenstat_overhead.sh). BENCH_QUICK=1 for a short run, BENCH_ONLY=a,b
# for some benchmarks only (then the greenstat part is skipped).
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
SRC=$(cd "$(dirname "$0")" && pwd)
export BUILD
python3 "$SRC/bench.py" || exit 1
if [ -z "${BENCH_ONLY:-}" ] && [ -f "$SRC/greenstat_overhead.sh" ]; then
  echo
  RUNS=$([ "${BENCH_QUICK:-}" = 1 ] && echo 3 || echo 7) bash "$SRC/greenstat_overhead.sh"
fi
exit 0
