#!/usr/bin/env bash
# Diagnostics (issue 6): thread dumps (GREEN_DUMP_SIGNAL), deadlock reports
# (GREEN_DEADLOCK), the stack overflow message. Every program also runs
# natively, where it must behave the same apart from what only libgreen
# prints: hang where it deadlocks, finish where it does not, die by the
# same signal. BUILD=<abs build dir>. Ends with "N passed, N failed".
SUITE=diag
source "$(dirname "$0")/../lib.sh"
CFLAGS="-O2 -g -Wall -Wextra -Werror -pthread"

for p in deadlock slow dump overflow busy; do
  gcc $CFLAGS "$SRC/$p.c" -o "$OUT/$p" || bad "build $p" "gcc failed"
done
gcc $CFLAGS -shared -fPIC "$SRC/early.c" -o "$OUT/libearly.so" &&
  gcc $CFLAGS "$SRC/slow.c" -o "$OUT/slow_early" -L"$OUT" -Wl,-rpath,"$OUT" -Wl,--no-as-needed -learly ||
  bad "build slow_early" "gcc failed"
need_lib
ulimit -c 0  # crashes below must not leave cores behind
export GREEN_PROCS=2

# wait_for FILE REGEX: true once FILE has a line matching REGEX (60 s at most)
wait_for() {
  local i
  for i in $(seq 600); do grep -Eq "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  return 1
}
# has FILE REGEX...: every REGEX matches some line of FILE; else names the first missing
missing=""
has() {
  local f=$1 re; shift
  for re in "$@"; do grep -Eq -- "$re" "$f" || { missing=$re; return 1; }; done
}

# ---- bad values: refused before main, naming the variable and what is accepted ----
for setting in GREEN_DUMP_SIGNAL=FOO GREEN_DUMP_SIGNAL=KILL GREEN_DUMP_SIGNAL=SIGSEGV \
               GREEN_DUMP_SIGNAL=9 GREEN_DUMP_SIGNAL=0 GREEN_DUMP_SIGNAL=99 GREEN_DUMP_SIGNAL=RTMAX-1 \
               GREEN_DUMP_SIGNAL= GREEN_DEADLOCK=yes GREEN_DEADLOCK=REPORT GREEN_DEADLOCK=; do
  var=${setting%%=*}
  env LD_PRELOAD="$LIB" "$setting" "$OUT/deadlock" >"$OUT/bad.out" 2>"$OUT/bad.err"
  rc=$?
  case $var in
    GREEN_DEADLOCK) accepted="expected report, abort or off" ;;
    *) accepted="expected off or a signal name or number .* other than KILL, STOP, SEGV" ;;
  esac
  if [ $rc = 1 ] && grep -q "^libgreen: $setting is invalid: $accepted" "$OUT/bad.err" &&
     ! [ -s "$OUT/bad.out" ] && ! grep -q usage "$OUT/bad.err"; then
    ok "bad '$setting' refused"
  else bad "bad '$setting'" "status $rc: $(cat "$OUT/bad.err" "$OUT/bad.out")"; fi
done
for setting in GREEN_DUMP_SIGNAL=off GREEN_DUMP_SIGNAL=QUIT GREEN_DUMP_SIGNAL=SIGUSR2 \
               GREEN_DUMP_SIGNAL=10 GREEN_DUMP_SIGNAL=RTMIN+2 GREEN_DEADLOCK=report \
               GREEN_DEADLOCK=abort GREEN_DEADLOCK=off; do
  env LD_PRELOAD="$LIB" "$setting" "$OUT/deadlock" >/dev/null 2>"$OUT/good.err"
  rc=$?  # the program's own usage message and status 2
  if [ $rc = 2 ] && grep -q "^usage" "$OUT/good.err"; then ok "'$setting' accepted"
  else bad "'$setting'" "status $rc: $(cat "$OUT/good.err")"; fi
done

# ---- deadlocks: natively they hang; libgreen reports every thread ----
# threads in the report, and what it must show, per mode
declare -A nthreads=([abba]=3 [cond]=5 [sem]=2)
declare -A shows=(
  [abba]="^thread 1 \(deadlock\): waiting .* in pthread_join of thread 2|in main\+0x|^thread 2 \(ab-worker\): waiting .* in pthread_mutex_lock\(0x[0-9a-f]+\), held by thread 3|in lock_a_then_b\+0x|^thread 3 \(ba-worker\): waiting .* held by thread 2|in lock_b_then_a\+0x"
  [cond]="pthread_join of thread 5|^thread [234] \(cond-waiter\): waiting .* in pthread_cond_wait\(0x|in wait_for_signal\+0x|^thread 5 \(joiner\): waiting .* in pthread_join of thread 2|in join_the_waiter\+0x"
  [sem]="^thread 1 \(deadlock\): waiting .* in sem_wait\(0x|in main\+0x|^thread 2 \(main-joiner\): waiting .* in pthread_join of thread 1|in join_main\+0x")
for mode in abba cond sem; do
  { timeout -s KILL 3 "$OUT/deadlock" $mode >/dev/null 2>&1; rc=$?; } 2>/dev/null
  [ $rc = 137 ] && ok "deadlock $mode [native hangs]" || bad "deadlock $mode [native]" "status $rc, expected to hang"
  for procs in 2 1; do
    name="deadlock $mode [green, GREEN_PROCS=$procs]"
    err=$OUT/deadlock.$mode.$procs.err
    env LD_PRELOAD="$LIB" GREEN_PROCS=$procs "$OUT/deadlock" $mode >/dev/null 2>"$err" &
    pid=$!
    if ! wait_for "$err" "the program keeps waiting"; then
      { kill -KILL $pid; wait $pid; } 2>/dev/null
      bad "$name" "no report in 60 s: $(head -5 "$err")"; continue
    fi
    alive=no; kill -0 $pid 2>/dev/null && alive=yes
    { kill -KILL $pid; wait $pid; } 2>/dev/null
    IFS='|' read -ra res <<<"${shows[$mode]}"
    n=$(grep -c '^thread ' "$err")
    if [ $alive = yes ] && [ "$n" = "${nthreads[$mode]}" ] && has "$err" "^libgreen: deadlock: " \
       "^libgreen: end of thread dump" "${res[@]}" && [ "$(grep -c 'deadlock: ' "$err")" = 1 ]; then
      ok "$name: reported, $n threads, still waiting"
    else bad "$name" "alive=$alive, $n threads, missing '$missing': $(cat "$err")"; fi
  done
  err=$OUT/deadlock.$mode.abort.err
  { env LD_PRELOAD="$LIB" GREEN_DEADLOCK=abort timeout -s KILL 60 "$OUT/deadlock" $mode >/dev/null 2>"$err"
    rc=$?; } 2>/dev/null
  if [ $rc = 134 ] && has "$err" "^libgreen: deadlock: " "^libgreen: end of thread dump" \
     "aborting \(GREEN_DEADLOCK=abort\)"; then ok "deadlock $mode [green, GREEN_DEADLOCK=abort: SIGABRT]"
  else bad "deadlock $mode [GREEN_DEADLOCK=abort]" "status $rc: $(tail -3 "$err")"; fi
done
{ env LD_PRELOAD="$LIB" GREEN_DEADLOCK=off timeout -s KILL 3 "$OUT/deadlock" abba >/dev/null 2>"$OUT/off.err"
  rc=$?; } 2>/dev/null
if [ $rc = 137 ] && ! [ -s "$OUT/off.err" ]; then ok "deadlock abba [green, GREEN_DEADLOCK=off: hangs silently]"
else bad "GREEN_DEADLOCK=off" "status $rc: $(cat "$OUT/off.err")"; fi

# ---- long waits that are not deadlocks: never reported ----
for mode in sleep read waitpid join signal foreign; do
  prog=$OUT/slow; [ $mode = foreign ] && prog=$OUT/slow_early
  for how in native green green-1p; do
    env=()
    case $how in
      green) env=(env LD_PRELOAD="$LIB") ;;
      green-1p) env=(env LD_PRELOAD="$LIB" GREEN_PROCS=1) ;;
    esac
    timeout -s KILL 60 "${env[@]}" "$prog" $mode >"$OUT/slow.out" 2>"$OUT/slow.err"
    rc=$?
    if [ $rc = 0 ] && grep -q '^done$' "$OUT/slow.out" && ! [ -s "$OUT/slow.err" ]; then ok "slow $mode [$how]: not reported"
    else bad "slow $mode [$how]" "status $rc: $(head -3 "$OUT/slow.err")"; fi
  done
done

# ---- thread dump on a signal: every thread, its wait, its backtrace ----
dump_shows=(
  "^libgreen: thread dump on SIG(USR1|QUIT) \(GREEN_DUMP_SIGNAL\)" "^libgreen: end of thread dump"
  "^thread 1 \(dump\): waiting [0-9.]+ s in a wait for fd 0 to be readable" "in main\+0x"
  "^thread 2 \(cond-waiter\): waiting [0-9.]+ s in pthread_cond_wait\(0x" "in cond_waiter_fn\+0x"
  "^thread 3 \(mutex-waiter\): waiting [0-9.]+ s in pthread_mutex_lock\(0x[0-9a-f]+\), held by thread 1"
  "in mutex_waiter_fn\+0x"
  "^thread 4 \(sem-waiter\): waiting [0-9.]+ s in sem_wait\(0x" "in sem_waiter_fn\+0x"
  "^thread 5 \(sleeper\): waiting [0-9.]+ s in a sleep" "in sleeper_fn\+0x"
  "^thread 6 \(pipe-reader\): waiting [0-9.]+ s in a wait for fd [0-9]+ to be readable"
  "in pipe_reader_fn\+0x"
  "^thread 7 \(joiner\): waiting [0-9.]+ s in pthread_join of thread 2" "in joiner_fn\+0x"
  "^thread 8 \(spinner\): (running on OS thread [0-9]+|runnable)")
# dump_run NAME MODE SIGNAL CHECK PROGRAM [ARGS]: run PROGRAM with stdin from a
# FIFO; once it is READY (and its child, if any, printed CHILD), send
# SIGNAL until the last dump passes CHECK (threads may still be on their
# way to block), at most 20 times; then release the program with a line.
# MODE native sends no signal. Sets rc; the last dump is in $OUT/NAME.last.
dump_run() {
  local name=$1 mode=$2 sig=$3 check=$4; shift 4
  local fifo=$OUT/dump.fifo out=$OUT/$name.out err=$OUT/$name.err env=() k target
  [ $mode = green ] && env=(env LD_PRELOAD="$LIB" GREEN_DUMP_SIGNAL=$sig)
  rm -f "$fifo" "$OUT/$name.last"; mkfifo "$fifo"
  timeout -s KILL 120 "${env[@]}" "$@" <"$fifo" >"$out" 2>"$err" &
  local tpid=$!
  exec 7>"$fifo"
  if wait_for "$out" "^READY" && [ $mode = green ]; then
    target=$(pgrep -P $tpid | head -1)
    if [ "${2:-}" = fork ]; then wait_for "$out" "^CHILD" && target=$(awk '/^CHILD/ {print $2}' "$out"); fi
    for k in $(seq 20); do
      kill -$sig "$target" || break
      for i in $(seq 600); do [ "$(grep -c '^libgreen: end of thread dump' "$err")" -ge $k ] && break; sleep 0.1; done
      awk '/^libgreen: thread dump on/ {n++} {print > ("'"$OUT/$name"'.part" n)}' "$err"
      cp "$OUT/$name.part$k" "$OUT/$name.last" 2>/dev/null
      rm -f "$OUT/$name".part*
      $check "$OUT/$name.last" && break
    done
  fi
  echo go >&7
  exec 7>&-
  wait $tpid
  rc=$?
}
# every dump.c thread, blocked where it should be
dump_complete() { [ "$(grep -c '^thread ' "$1")" = 8 ] && has "$1" "${dump_shows[@]}"; }
dump_child() {
  [ "$(grep -c '^thread ' "$1")" = 1 ] &&
    has "$1" "^thread 1 \(dump\): waiting .* fd [0-9]+ to be readable" "in child\+0x"
}
for procs in 2 1; do
  sig=USR1; [ $procs = 1 ] && sig=QUIT
  GREEN_PROCS=$procs dump_run dump.$procs green $sig dump_complete "$OUT/dump"
  last=$OUT/dump.$procs.last
  if [ $rc = 0 ] && grep -q '^done$' "$OUT/dump.$procs.out" && dump_complete "$last"; then
    ok "dump [green, GREEN_PROCS=$procs, SIG$sig]: 8 threads"
  else bad "dump [green, GREEN_PROCS=$procs]" "status $rc, missing '$missing': $(cat "$last" 2>/dev/null)"; fi
done
dump_run dump.native native - true "$OUT/dump"
[ $rc = 0 ] && grep -q '^done$' "$OUT/dump.native.out" && ok "dump [native]" || bad "dump [native]" "status $rc"
# in a child of fork: the child has a dump thread of its own
dump_run dump.fork green USR1 dump_child "$OUT/dump" fork
if [ $rc = 0 ] && dump_child "$OUT/dump.fork.last"; then ok "dump [green, in a child of fork]"
else bad "dump [fork]" "status $rc, missing '$missing': $(cat "$OUT/dump.fork.err")"; fi
dump_run dump.fork.native native - true "$OUT/dump" fork
[ $rc = 0 ] && ok "dump fork [native]" || bad "dump fork [native]" "status $rc"

# ---- dumps while threads come and go (stacks unmapped under the dump) ----
rm -f "$OUT/busy.fifo"; mkfifo "$OUT/busy.fifo"
env LD_PRELOAD="$LIB" GREEN_DUMP_SIGNAL=USR1 timeout -s KILL 120 "$OUT/busy" <"$OUT/busy.fifo" \
  >"$OUT/busy.out" 2>"$OUT/busy.err" &
tpid=$!
exec 7>"$OUT/busy.fifo"
dumps=0
if wait_for "$OUT/busy.out" "^STARTED"; then
  bpid=$(pgrep -P $tpid -x busy)
  for k in $(seq 20); do
    kill -USR1 "$bpid" 2>/dev/null || break
    for i in $(seq 600); do [ "$(grep -c '^libgreen: end of thread dump' "$OUT/busy.err")" -ge $k ] && break; sleep 0.1; done
  done
  dumps=$(grep -c '^libgreen: end of thread dump' "$OUT/busy.err")
fi
echo stop >&7
exec 7>&-
wait $tpid
rc=$?
if [ $rc = 0 ] && grep -q ' ok$' "$OUT/busy.out" && [ "$dumps" = 20 ]; then ok "20 dumps of a busy program: $(cat "$OUT/busy.out" | tail -1)"
else bad "busy" "status $rc, $dumps dumps: $(tail -2 "$OUT/busy.out") $(tail -3 "$OUT/busy.err")"; fi
echo stop | timeout -s KILL 60 "$OUT/busy" >"$OUT/busy.native.out" 2>&1
rc=$?
[ $rc = 0 ] && ok "busy [native]" || bad "busy [native]" "status $rc: $(tail -2 "$OUT/busy.native.out")"

# ---- crashes: the overflow names the thread and its stack, then SIGSEGV as natively ----
declare -A says=(
  [small]="^libgreen: thread 2 \(deep-recursion\) overflowed its 64 KiB stack, a size the program chose with pthread_attr_setstacksize; raise it there$"
  [default]="^libgreen: thread 2 \(deep-recursion\) overflowed its 256 KiB stack; set GREEN_STACK_SIZE \(the default for every thread, now 256 KiB\) or pthread_attr_setstacksize to raise it$"
  [main]="^libgreen: thread 1 \(overflow\) overflowed its 256 KiB stack; set GREEN_STACK_SIZE")
for mode in small default main null handled chained query; do
  want=139 wout=""
  [ $mode = handled ] && want=3 wout="app handler"
  [ $mode = chained ] && wout="chained"
  [ $mode = query ] && want=0 wout="default"
  { timeout -s KILL 60 "$OUT/overflow" $mode >"$OUT/overflow.out" 2>"$OUT/overflow.err"; rc=$?; } 2>/dev/null
  if [ $rc = $want ] && [ "$(cat "$OUT/overflow.out")" = "$wout" ] && ! [ -s "$OUT/overflow.err" ]; then ok "overflow $mode [native: status $rc]"
  else bad "overflow $mode [native]" "status $rc (want $want): $(cat "$OUT/overflow.err")"; fi
  for procs in 2 1; do
    { env LD_PRELOAD="$LIB" GREEN_STACK_SIZE=256k GREEN_PROCS=$procs timeout -s KILL 60 "$OUT/overflow" $mode \
        >"$OUT/overflow.out" 2>"$OUT/overflow.err"; rc=$?; } 2>/dev/null
    msg_ok=yes
    if [ -n "${says[$mode]:-}" ]; then
      grep -Eq "${says[$mode]}" "$OUT/overflow.err" && [ "$(wc -l <"$OUT/overflow.err")" = 1 ] || msg_ok=no
    else
      [ -s "$OUT/overflow.err" ] && msg_ok=no
    fi
    if [ $rc = $want ] && [ "$(cat "$OUT/overflow.out")" = "$wout" ] && [ $msg_ok = yes ]; then
      ok "overflow $mode [green, GREEN_PROCS=$procs: status $rc$([ -n "${says[$mode]:-}" ] && echo ', message')]"
    else bad "overflow $mode [green, GREEN_PROCS=$procs]" "status $rc (want $want): $(cat "$OUT/overflow.err")"; fi
  done
done

summary
