#!/usr/bin/env bash
# Signals per thread (issue 6): every program natively and under
# LD_PRELOAD=libgreen.so with GREEN_PROCS=2 and 1. BUILD=<abs build dir>.
# Ends with "N passed, N failed".
SUITE=signal
source "$(dirname "$0")/../lib.sh"

PROGS=$(cd "$SRC" && ls *.c | sed 's/\.c$//')
for p in $PROGS; do
  gcc -O2 -g -Wall -Wextra -Werror -pthread "$SRC/$p.c" -o "$OUT/$p" || bad "build $p" "gcc failed"
done
need_lib

run() {  # NAME MODE CMD...
  local name=$1 mode=$2; shift 2
  local log=$OUT/$name.$mode.log env=()
  [ "$mode" != native ] && env=(env LD_PRELOAD="$LIB")
  timeout -s KILL 60 "${env[@]}" "$@" >"$log" 2>&1
  local rc=$?
  # Programs that print PEAK_THREADS: under libgreen the kernel must have
  # seen at most GREEN_PROCS + 4 threads.
  local peak
  peak=$(awk '/^PEAK_THREADS/ {print $2}' "$log" | tail -1)
  if [ $rc = 0 ] && [ "$mode" != native ] && [ -n "$peak" ] && [ "$peak" -gt $((GREEN_PROCS + 4)) ]; then
    bad "$name [$mode]" "kernel saw $peak threads, bound GREEN_PROCS + 4"; return
  fi
  if [ $rc = 0 ]; then ok "$name [$mode]${peak:+ ($peak kernel threads)}"; else
    bad "$name [$mode]" "exit status $rc$([ $rc = 137 ] && echo ' (killed after 60 s)'): $(tail -3 "$log" | tr '\n' ' ')"
  fi
}

for p in $PROGS; do
  run "$p" native "$OUT/$p"
  GREEN_PROCS=2 run "$p" green "$OUT/$p"
  GREEN_PROCS=1 run "$p" green-1p "$OUT/$p"
done
summary
