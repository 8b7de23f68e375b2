#!/usr/bin/env bash
# Preemption (issue 6): legacy spin-waits and CPU-bound threads, natively and
# under LD_PRELOAD=libgreen.so with one P (where nothing but preemption lets
# a spinning thread give way). BUILD=<abs build dir>. Ends with
# "N passed, N failed".
SUITE=preempt
source "$(dirname "$0")/../lib.sh"

for p in spin_flag spin_timer fair hammer; do
  gcc -O2 -g -Wall -Wextra -Werror -pthread "$SRC/$p.c" -o "$OUT/$p" || bad "build $p" "gcc failed"
done
g++ -std=c++20 -O2 -g -Wall -Wextra -Werror -pthread "$SRC/throw_loop.cpp" -o "$OUT/throw_loop" ||
  bad "build throw_loop" "g++ failed"
need_lib

# run NAME MODE CMD...: MODE native|green; the log is $OUT/NAME.MODE.log
run() {
  local name=$1 mode=$2; shift 2
  local log=$OUT/$name.$mode.log env=()
  [ "$mode" = green ] && env=(env LD_PRELOAD="$LIB" GREEN_STATS=1)
  timeout -s KILL 120 "${env[@]}" "$@" >"$log" 2>"$log.err"
  local rc=$?
  if [ $rc != 0 ]; then
    bad "$name [$mode]" "exit status $rc$([ $rc = 137 ] && echo ' (killed after 120 s)'): $(tail -3 "$log.err" | tr '\n' ' ')"
    return 1
  fi
  ok "$name [$mode]"
}
# preempted NAME: the green run's stats show Gs switched out by the signal
preempted() {
  local n
  n=$(sed -n 's/.* preempts=\([0-9]*\).*/\1/p' "$OUT/$1.green.log.err")
  if [ "${n:-0}" -gt 0 ]; then ok "$1 preempted $n times"; else bad "$1" "no preemption recorded"; fi
}

export GREEN_PROCS=1
run spin_flag native "$OUT/spin_flag" 8
run spin_flag green "$OUT/spin_flag" 8 && preempted spin_flag
# Regression: the preemption handler once parked inside libunwind (its
# pthread mutex) and left an M running Gs with every signal blocked.
for i in 1 2 3; do GREEN_PROCS=2 run spin_flag-2p-$i green "$OUT/spin_flag" 16; done

# Regression: a spinner with only a sleeper's timer pending was never
# preempted (nothing queued), so the timer never fired: a hang.
run spin_timer native "$OUT/spin_timer"
run spin_timer green "$OUT/spin_timer" && preempted spin_timer

run fair native "$OUT/fair" 4 1000
run fair green "$OUT/fair" 4 1000 && preempted fair

# Preemption must never switch a G out inside libc (malloc, stdio), the
# loader or the unwinder: constant preemption (200 us slices), and the
# output must be the native run's, line for line.
run hammer native "$OUT/hammer" 8 4000
GREEN_TIMESLICE_US=200 run hammer green "$OUT/hammer" 8 4000 && preempted hammer
GREEN_PROCS=2 GREEN_TIMESLICE_US=200 run hammer-2p green "$OUT/hammer" 8 4000
for v in green hammer-2p.green; do
  f=$OUT/hammer.$v.log; [ "$v" = green ] || f=$OUT/$v.log
  if [ -f "$f" ] && cmp -s <(sort "$OUT/hammer.native.log") <(sort "$f") &&
     [ "$(wc -l <"$f")" = 32000 ]; then
    ok "hammer output ($v) identical to native"
  else
    bad "hammer output ($v)" "differs from the native run"
  fi
done
run throw_loop native "$OUT/throw_loop" 8 100000
GREEN_TIMESLICE_US=200 run throw_loop green "$OUT/throw_loop" 8 100000 && preempted throw_loop

# Configuration: bad values are refused with the variable's name and range.
for kv in GREEN_TIMESLICE_US=50 GREEN_TIMESLICE_US=x GREEN_PREEMPT_SIGNAL=5 GREEN_PREEMPT_SIGNAL=RTMAX+1 \
    GREEN_DEBUG=foo GREEN_DEBUG=schedtrace=0; do
  msg=$(env "$kv" LD_PRELOAD="$LIB" "$OUT/spin_flag" 1 2>&1)
  rc=$?
  if [ $rc != 0 ] && grep -q "${kv%%=*}=.* is invalid: expected" <<<"$msg"; then
    ok "refuses $kv"
  else
    bad "refuses $kv" "exit $rc: $msg"
  fi
done
# GREEN_DEBUG=schedtrace=MS: a scheduler line per interval, with the queues.
GREEN_DEBUG=schedtrace=50 timeout -s KILL 60 env LD_PRELOAD="$LIB" "$OUT/fair" 4 500 >/dev/null 2>"$OUT/schedtrace.err"
n=$(grep -c '^libgreen: schedtrace [0-9]*ms: procs=1 active=1 .* gs=5 \[[0-9]*\]$' "$OUT/schedtrace.err")
if [ "$n" -ge 3 ]; then ok "schedtrace lines ($n)"; else bad "schedtrace" "$n lines: $(head -2 "$OUT/schedtrace.err")"; fi
# Another signal, by name: still preempts.
GREEN_PREEMPT_SIGNAL=RTMIN+5 run spin_flag-rtmin5 green "$OUT/spin_flag" 4

summary
