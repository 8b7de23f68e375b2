#!/usr/bin/env bash
# Blocking calls without OS threads (issue 5): each program runs natively and
# under LD_PRELOAD=libgreen.so; kernel-side thread counts are read from /proc
# by the programs themselves (PEAK_THREADS / THREADS_AFTER lines); a
# "KERNEL_BLOCKED n" line of a libgreen run must say 0: no kernel thread sat
# in the blocking system call a parked thread was making.
# BUILD=<abs build dir>. Ends with "N passed, N failed".
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
SRC=$(cd "$(dirname "$0")" && pwd)
OUT=$BUILD/io
LIB=$BUILD/libgreen.so
mkdir -p "$OUT"
pass=0 fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }

for p in ring echo sleepers semantics handoff blocked stuck closewait connect rawsys fdkinds moresys idle_cpu oversub sigstorm noblock sharedfd tcpread busyio closefds lowfd; do
  gcc -O2 -g -Wall -Wextra -Werror -pthread "$SRC/$p.c" -o "$OUT/$p" || { bad "build $p" "gcc failed"; }
done
[ -f "$LIB" ] || { bad "libgreen" "$LIB is missing"; echo "$pass passed, $fail failed"; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# run NAME MODE MAXTHREADS CMD...: MODE native|green; MAXTHREADS "-" for no bound
run() {
  local name=$1 mode=$2 max=$3; shift 3
  local log=$OUT/$name.$mode.log env=()
  [ "$mode" = green ] && env=(env LD_PRELOAD="$LIB")
  timeout -s KILL 120 "${env[@]}" "$@" >"$log" 2>&1
  local rc=$?
  if [ $rc != 0 ]; then
    bad "$name [$mode]" "exit status $rc$([ $rc = 137 ] && echo ' (killed after 120 s)'): $(tail -3 "$log" | tr '\n' ' ')"; return
  fi
  if [ "$mode" = green ] && grep -q '^KERNEL_BLOCKED [1-9]' "$log"; then
    bad "$name [$mode]" "a kernel thread was blocked in the call: $(grep '^KERNEL_BLOCKED [1-9]' "$log" | head -2 | tr '\n' ' ')"; return
  fi
  if [ "$mode" = native ] && grep -q '^KERNEL_BLOCKED 0' "$log"; then
    bad "$name [$mode]" "the kernel-side probe saw no blocked thread natively: $(grep '^KERNEL_BLOCKED 0' "$log" | head -1)"; return
  fi
  if [ "$max" != - ]; then
    local peak
    peak=$(awk '/^(PEAK_THREADS|THREADS_AFTER)/ {print $2}' "$log" | tail -1)
    if [ -z "$peak" ] || [ "$peak" -gt "$max" ]; then
      bad "$name [$mode]" "kernel saw ${peak:-?} threads, bound $max"; return
    fi
  fi
  ok "$name [$mode]"
}

# three_ways NAME: natively, under libgreen, and under libgreen with one P
three_ways() {
  run "$1" native - "$OUT/$1"
  run "$1" green - "$OUT/$1"
  GREEN_PROCS=1 run "$1-1p" green - "$OUT/$1"
}

export GREEN_PROCS=2
run ring native - "$OUT/ring" 1000 10
run ring green - "$OUT/ring" 1000 10
three_ways semantics
run echo-1000 native - "$OUT/echo" 1000
run echo-1000 green $((GREEN_PROCS + 8)) "$OUT/echo" 1000
# 100,000 sleepers: beyond pid_max natively, so natively 10,000
run sleepers-10k native - "$OUT/sleepers" 10000
run sleepers-100k green $((GREEN_PROCS + 4)) "$OUT/sleepers" 100000
GREEN_PROCS=1 run handoff-1p green 4 "$OUT/handoff"
run handoff native - "$OUT/handoff"
# close/shutdown/dup2 of a waited-on fd, connect, raw syscall(), more
# blocking calls, every pollable fd kind, pipe calls under a storm of
# signals: the same results both ways
for p in closewait connect rawsys fdkinds moresys sigstorm; do three_ways $p; done
# 2,000 blocking connects waiting at once (a full accept queue drops their
# SYNs): natively 2,000 threads, under libgreen parked Gs
run connect-storm native - "$OUT/connect" storm 2000
run connect-storm green $((GREEN_PROCS + 8)) "$OUT/connect" storm 2000
run blocked native - "$OUT/blocked" 64
# Regression: a call libgreen expects to block (semop, flock, F_SETLKW,
# msgsnd/msgrcv, waitpid) handed its P on even when it returned at once.
three_ways noblock
three_ways sharedfd
# A TCP read parks without asking the kernel after a short read; EOF, a
# reset, urgent data and shutdown must still end the next read at once.
three_ways tcpread
# Readiness while every P runs a spinning thread: no M idles in
# epoll_wait, so busy Ms or sysmon must harvest it.
three_ways busyio
# Regression: closefrom(3) closed libgreen's epoll set and eventfd (every
# later wait for I/O failed) and the unwinder's pipe, whose numbers the
# unwinder kept using on the program's next files.
three_ways closefds
# Regression: sysmon's look at an M blocked in a call libgreen cannot know
# will block opened a /proc file in the program's descriptor table, so
# some of the program's opens did not get the lowest free number.
three_ways lowfd
# A thread blocked inside glibc (stdio's own read, no interposer sees it)
# with one P: sysmon lends a spare P so the other threads keep running.
run stuck native - "$OUT/stuck"
# Regression: spinning Ms treated a pending (not yet due) timer as work and
# burnt a core while every thread slept (1.0 s of CPU per second).
run idle_cpu native - "$OUT/idle_cpu"
run idle_cpu green - "$OUT/idle_cpu"
GREEN_PROCS=1 run idle_cpu-1p green - "$OUT/idle_cpu"
# Regression: with every CPU oversubscribed, sysmon handed on the P of each
# short call whose M waited for a CPU mid-call, each to a new M (12-20
# kernel threads for 2 Ps; stress-ng --pthread broke test-apps' bound).
run oversub native - "$OUT/oversub"
run oversub green $((GREEN_PROCS + 6)) "$OUT/oversub"
GREEN_PROCS=1 run stuck-1p green - "$OUT/stuck"
GREEN_PROCS=1 GREEN_TIMESLICE_US=0 run stuck-1p-nopreempt green - "$OUT/stuck"
GREEN_PROCS=1 run blocked-1p green - "$OUT/blocked" 64
# Ms blocked in the kernel are capped by GREEN_MAX_MS: reaching it stops
# the program with a message naming the variable.
GREEN_PROCS=1 GREEN_MAX_MS=8 timeout -s KILL 60 env LD_PRELOAD="$LIB" "$OUT/blocked" 64 >"$OUT/maxms.log" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q "limit set by GREEN_MAX_MS (8)" "$OUT/maxms.log"; then ok "GREEN_MAX_MS=8 reached: stops with a message"
else bad "GREEN_MAX_MS" "rc $rc: $(head -3 "$OUT/maxms.log")"; fi

# 10,000 concurrent connections to a thread-per-connection server: the
# server process under libgreen stays within GREEN_PROCS + 8 kernel threads.
echo_pair() {
  local mode=$1 env=()
  local log=$OUT/echo-server.$mode.log
  [ "$mode" = green ] && env=(env LD_PRELOAD="$LIB")
  timeout -s KILL 120 "${env[@]}" "$OUT/echo" server 10000 >"$log" 2>&1 &
  local spid=$! port="" i
  for i in $(seq 100); do port=$(awk '/^PORT/ {print $2}' "$log"); [ -n "$port" ] && break; sleep 0.05; done
  [ -n "$port" ] || { bad "echo-10k [$mode]" "server did not start"; kill $spid; return; }
  if ! timeout -s KILL 120 "$OUT/echo" client "$port" 10000 >"$OUT/echo-client.$mode.log" 2>&1; then
    bad "echo-10k [$mode]" "client: $(tail -2 "$OUT/echo-client.$mode.log" | tr '\n' ' ')"; kill $spid; return
  fi
  if ! wait $spid; then bad "echo-10k [$mode]" "server: $(tail -2 "$log" | tr '\n' ' ')"; return; fi
  local peak; peak=$(awk '/^PEAK_THREADS/ {print $2}' "$log")
  if [ "$mode" = green ] && [ "${peak:-999999}" -gt $((GREEN_PROCS + 8)) ]; then
    bad "echo-10k [$mode]" "server process had $peak kernel threads, bound $((GREEN_PROCS + 8))"; return
  fi
  ok "echo-10k [$mode] (server peak $peak threads)"
}
echo_pair native
echo_pair green

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
