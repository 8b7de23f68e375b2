#!/usr/bin/env bash
# make test runs this: every make-bench program once with small sizes,
# natively and under libgreen, so that a benchmark that no longer does its
# work (each program checks its own) is caught without timing anything.
# BUILD=<abs build dir>. Ends with "N passed, N failed".
SUITE=bench
. "$(dirname "$0")/../lib.sh"
B=$OUT EX=$BUILD/examples
need_lib
export GREEN_PROCS=2

check() {  # label mode command...
  local label=$1 mode=$2 out
  shift 2
  local env=(env)
  [ "$mode" = libgreen ] && env=(env LD_PRELOAD="$LIB")
  if out=$(timeout -s KILL 120 "${env[@]}" "$@" 2>&1) && grep -q '^RESULT ' <<<"$out"; then
    ok "$label [$mode]"
  else
    bad "$label [$mode]" "$(tail -2 <<<"$out" | tr '\n' ' ')"
  fi
}

mkdir -p "$B/tmp"
for mode in native libgreen; do
  check create_join $mode "$EX/create_join" 1000
  for m in cond yield sem; do check "pingpong $m" $mode "$EX/pingpong" $m 2000; done
  check bench_lock $mode "$B/bench_lock" 100000
  check bench_contended $mode "$B/bench_contended" 100 100
  check ring $mode "$B/ring" 503 2000
  check sleeping $mode "$B/sleeping" 1000 2
  check cpu_parallel $mode "$B/cpu_parallel" 4 10
  check fileio $mode "$B/fileio" 4 200 "$B/tmp"
  check sleep_accuracy $mode "$B/sleep_accuracy" 10 10
done
check handoff_latency native taskset -c 0 "$B/handoff_latency" 50
GREEN_PROCS=1 check handoff_latency libgreen "$B/handoff_latency" 50
check handoff_latency_futex native taskset -c 0 "$B/handoff_latency" 50 futex
GREEN_PROCS=1 check handoff_latency_futex libgreen "$B/handoff_latency" 50 futex

# the echo client against the thread-per-connection server, both ways
for mode in native libgreen; do
  env=(env)
  [ "$mode" = libgreen ] && env=(env LD_PRELOAD="$LIB")
  log=$B/tmp/echo-smoke.$mode.log
  timeout -s KILL 60 "${env[@]}" "$B/echo" server 100 >"$log" 2>&1 &
  spid=$! port=""
  for _ in $(seq 100); do port=$(awk '/^PORT/ {print $2}' "$log"); [ -n "$port" ] && break; sleep 0.05; done
  if [ -n "$port" ] && out=$(timeout -s KILL 60 "$B/echo_load" "$port" 100 1 2>&1) && wait $spid &&
     grep -q '^RESULT ' <<<"$out" && grep -q 'connections: ok' "$log"; then
    ok "echo_load vs echo server [$mode]"
  else
    bad "echo_load vs echo server [$mode]" "$(tail -2 <<<"${out:-}" | tr '\n' ' ') $(tail -2 "$log" | tr '\n' ' ')"
    kill $spid 2>/dev/null
  fi
done
summary
