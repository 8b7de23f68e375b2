#!/usr/bin/env bash
# Integration tests of the foundation (issue 3): example and test programs
# (plain pthread C/C++, built by make into $BUILD/examples and $BUILD/itest)
# run natively and under LD_PRELOAD=libgreen.so. Ends with "N passed, N failed".
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
LIB=$BUILD/libgreen.so EX=$BUILD/examples IT=$BUILD/itest OUT=$BUILD/itest/logs
mkdir -p "$OUT"
pass=0 fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
export GREEN_PROCS=2

# go NAME MODE [ENV=V...] -- CMD...: run; sets $rc, logs in $OUT/NAME.MODE.{out,err}
go() {
  local name=$1 mode=$2; shift 2
  local env=()
  while [ "$1" != -- ]; do env+=("$1"); shift; done; shift
  [ "$mode" = green ] && env+=(LD_PRELOAD="$LIB")
  out=$OUT/$name.$mode.out err=$OUT/$name.$mode.err
  timeout -s KILL 120 env "${env[@]}" "$@" >"$out" 2>"$err"
  rc=$?
}
[ -f "$LIB" ] || { bad libgreen "$LIB is missing"; echo "$pass passed, $fail failed"; exit 1; }

# a. 100,000 threads alive at once: beyond pid_max natively, fine under libgreen
go many native -- "$EX/many_threads" 100000
if [ $rc = 2 ] && grep -q "pthread_create failed after" "$err"; then ok "many_threads 100000 [native fails cleanly: $(grep -o 'after [0-9]* threads' "$err")]"
else bad "many_threads [native]" "expected exit 2 with a message, got $rc"; fi
go many green -- "$EX/many_threads" 100000
k=$(grep -o 'while alive: [0-9]*' "$out" | grep -o '[0-9]*$')
if [ $rc = 0 ] && [ -n "$k" ] && [ "$k" -le $((GREEN_PROCS + 4)) ]; then ok "many_threads 100000 [green: $k kernel threads]"
else bad "many_threads [green]" "rc $rc, kernel threads ${k:-?} (bound $((GREEN_PROCS + 4)))"; fi

# b. errno / __thread / pthread_self across yields and migrations
go identity native -- "$IT/identity"
m=$(awk '/^MIGRATIONS/ {print $2}' "$out")
if [ $rc = 0 ] && [ "$m" = 0 ]; then ok "identity [native]"; else bad "identity [native]" "rc $rc migrations ${m:-?}"; fi
go identity green UNTIL_MIGRATED=1 -- "$IT/identity"
m=$(awk '/^MIGRATIONS/ {print $2}' "$out")
if [ $rc = 0 ] && [ "${m:-0}" -gt 0 ]; then ok "identity [green: $m migrations]"; else bad "identity [green]" "rc $rc migrations ${m:-?}: $(cat "$err")"; fi

# c-f, h: destructors, pthread_exit from main, lifecycle and errors
for mode in native green; do
  go dtors $mode -- "$IT/dtors"
  [ $rc = 0 ] && ok "dtors [$mode]" || bad "dtors [$mode]" "rc $rc: $(cat "$out" "$err")"
  go main_exit $mode -- "$IT/main_exit"
  if [ $rc = 0 ] && [ "$(grep -c 'done$' "$out")" = 4 ]; then ok "main_exit [$mode]"
  else bad "main_exit [$mode]" "rc $rc: $(cat "$out")"; fi
  go lifecycle $mode -- "$IT/lifecycle"
  [ $rc = 0 ] && ok "lifecycle [$mode]" || bad "lifecycle [$mode]" "rc $rc: $(cat "$err")"
done

# k. TLS of a library dlopen'ed while threads exist, and dlclose'd while
#    dead threads' TLS blocks wait for reuse
for mode in native green; do
  go tls_dlclose $mode -- "$IT/tls_dlclose"
  [ $rc = 0 ] && ok "tls_dlclose [$mode]" || bad "tls_dlclose [$mode]" "rc $rc: $(head -3 "$err")"
done
for mode in native green; do
  go tls_dlopen $mode -- "$IT/tls_dlopen"
  [ $rc = 0 ] && ok "tls_dlopen [$mode]" || bad "tls_dlopen [$mode]" "rc $rc: $(grep -c FAIL "$err") wrong values: $(head -3 "$err")"
done

# m. set*id() with many threads: glibc changes every kernel thread's ids
#    and waits for all of them; none may be left out, and it must return
for mode in native green; do
  go setxid $mode -- "$IT/setxid"
  [ $rc = 0 ] && ok "setxid [$mode: $(grep -o '[0-9]* kernel threads' "$out")]" || bad "setxid [$mode]" "rc $rc: $(head -3 "$err")"
done

# l. glibc's static TLS reserve for libraries dlopen'ed later, as glibc
#    sizes it and cut down with glibc's own tunables (README "Compact G
#    blocks": smaller G blocks): a library too big for it is refused, one
#    that fits works in every thread, natively and under libgreen alike;
#    the TLS tests above hold with the small reserve too.
COMPACT=glibc.rtld.optional_static_tls=0:glibc.rtld.nns=1
for tun in "" "$COMPACT"; do
  for mode in native green; do
    label="$mode${tun:+, GLIBC_TUNABLES=$tun}"
    go tls_reserve $mode GLIBC_TUNABLES="$tun" -- "$IT/tls_reserve"
    [ $rc = 0 ] && ok "tls_reserve [$label]" || bad "tls_reserve [$label]" "rc $rc: $(head -3 "$err")"
  done
done
for mode in native green; do
  for t in tls_dlclose lifecycle dtors; do
    go $t-compact $mode GLIBC_TUNABLES="$COMPACT" -- "$IT/$t"
    [ $rc = 0 ] && ok "$t [$mode, compact TLS]" || bad "$t [$mode, compact TLS]" "rc $rc: $(head -3 "$err")"
  done
done
go identity-compact green UNTIL_MIGRATED=1 GLIBC_TUNABLES="$COMPACT" -- "$IT/identity"
m=$(awk '/^MIGRATIONS/ {print $2}' "$out")
if [ $rc = 0 ] && [ "${m:-0}" -gt 0 ]; then ok "identity [green, compact TLS: $m migrations]"
else bad "identity [green, compact TLS]" "rc $rc migrations ${m:-?}: $(cat "$err")"; fi

# g. bad configuration: clear message, program does not run
for setting in GREEN_PROCS=abc GREEN_PROCS=0 GREEN_PROCS=100000 GREEN_STACK_SIZE=foo \
               GREEN_STACK_SIZE=1k GREEN_STATS=yes; do
  var=${setting%%=*}
  go badenv green "$setting" -- "$IT/dtors"
  if [ $rc != 0 ] && grep -q "$var=${setting#*=} is invalid" "$err" && grep -q "expected" "$err" && ! [ -s "$out" ]; then
    ok "bad $setting refused: $(head -1 "$err")"
  else bad "bad $setting" "rc $rc, stderr: $(cat "$err"), stdout: $(cat "$out")"; fi
done
go range green GREEN_PROCS=abc -- "$IT/dtors"
grep -q "from 1 to 1024" "$err" && ok "GREEN_PROCS message names the range" || bad "GREEN_PROCS range" "$(cat "$err")"

# i. GREEN_STATS=1 prints counters at exit
go stats green GREEN_STATS=1 -- "$IT/dtors"
n=$(grep -o 'gs_created=[0-9]*' "$err" | grep -o '[0-9]*$')
if [ $rc = 0 ] && [ "${n:-0}" -ge 100 ] && grep -q peak_gs= "$err" && grep -q ms_created= "$err" && grep -q steals= "$err" && grep -q parks= "$err"; then
  ok "GREEN_STATS=1 [gs_created=$n]"
else bad "GREEN_STATS" "rc $rc: $(cat "$err")"; fi

# j. tests/tools/threadmax (the kernel-side thread count make bench and
#    tests/apps use): sees every native thread, libgreen's few, a child's
#    with -d, passes the exit status on, and ends a hung tree with -t
TM=$BUILD/tools/threadmax
go threadmax native -- "$TM" -i 200 -- "$EX/many_threads" 2000
m=$(grep -o 'THREADMAX max=[0-9]*' "$err" | grep -o '[0-9]*$')
if [ $rc = 0 ] && [ "${m:-0}" -ge 1000 ] && [ "${m:-0}" -le 2001 ]; then ok "threadmax [native many_threads 2000: max $m]"
else bad "threadmax [native]" "rc $rc, max ${m:-?}: $(cat "$err")"; fi
go threadmax-green native -- "$TM" -i 200 -- env LD_PRELOAD="$LIB" "$EX/many_threads" 2000
m=$(grep -o 'THREADMAX max=[0-9]*' "$err" | grep -o '[0-9]*$')
if [ $rc = 0 ] && [ "${m:-0}" -ge 1 ] && [ "${m:-0}" -le $((GREEN_PROCS + 4)) ]; then ok "threadmax [green many_threads 2000: max $m]"
else bad "threadmax [green]" "rc $rc, max ${m:-?}: $(cat "$err")"; fi
go threadmax-status native -- "$TM" -- sh -c 'exit 7'
if [ $rc = 7 ] && grep -q 'status=7' "$err"; then ok "threadmax passes the exit status on"
else bad "threadmax status" "rc $rc: $(cat "$err")"; fi
go threadmax-missing native -- "$TM" -- /nonexistent/prog
if [ $rc = 127 ] && grep -q 'cannot run /nonexistent/prog' "$err"; then ok "threadmax reports a command it cannot run"
else bad "threadmax missing" "rc $rc: $(cat "$err")"; fi
# -d follows forked children (the threads live in a child of sh); -t kills
# the whole tree after its time (the background sleep too) and says so
go threadmax-tree native -- "$TM" -i 200 -d -- sh -c "\"$EX/many_threads\" 2000; true"
m=$(grep -o 'THREADMAX max=[0-9]*' "$err" | grep -o '[0-9]*$')
if [ $rc = 0 ] && [ "${m:-0}" -ge 1000 ] && grep -q 'comm=many_threads procs=2' "$err"; then ok "threadmax -d [a child's $m threads]"
else bad "threadmax -d" "rc $rc: $(cat "$err")"; fi
t0=$SECONDS
go threadmax-timeout native -- "$TM" -d -t 1 -- sh -c 'sleep 30 & sleep 30; true'
alive=""
for p in $(sed -n 's/^threadmax: timed out; process \([0-9]*\).*/\1/p' "$err"); do
  grep -qs '^State:.*[RSD]' "/proc/$p/status" && alive="$alive $p"
done
if [ $rc = 137 ] && [ $((SECONDS - t0)) -lt 20 ] && [ "$(grep -c 'timed out; process' "$err")" = 3 ] &&
   grep -q ' timeout$' "$err" && [ -z "$alive" ]; then ok "threadmax -t kills the tree and reports the hang"
else bad "threadmax -t" "rc $rc after $((SECONDS - t0)) s, still running:${alive:- none}: $(cat "$err")"; fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
