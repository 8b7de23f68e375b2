#!/usr/bin/env bash
# The process lifecycle from threads (issue 6): fork, exec, posix_spawn,
# system, exit/_exit/quick_exit, abort and crashes, daemon; each mode
# natively and under LD_PRELOAD=libgreen.so (GREEN_PROCS=2 and 1), with the
# exit status and output the native run gives. BUILD=<abs build dir>.
SUITE=process
source "$(dirname "$0")/../lib.sh"
gcc -O2 -g -Wall -Wextra -Werror -pthread "$SRC/process.c" -o "$OUT/process" || bad build "gcc failed"
need_lib

# expect MODE STATUS OUTPUT-REGEX: every way of running gives STATUS and
# stdout matching OUTPUT-REGEX (whole output, one line)
expect() {
  local mode=$1 want=$2 re=$3 how
  for how in native green green-1p; do
    local env=() out rc
    case $how in
      green) env=(env LD_PRELOAD="$LIB" GREEN_PROCS=2) ;;
      green-1p) env=(env LD_PRELOAD="$LIB" GREEN_PROCS=1) ;;
    esac
    out=$( (ulimit -c 0; timeout -s KILL 60 "${env[@]}" "$OUT/process" "$mode") 2>"$OUT/$mode.$how.err")
    rc=$?
    if [ "$rc" = "$want" ] && [[ "$(echo $out)" =~ ^$re$ ]]; then
      ok "$mode [$how]"
    else
      bad "$mode [$how]" "status $rc (want $want), output '$(echo $out)': $(tail -2 "$OUT/$mode.$how.err" | tr '\n' ' ')"
    fi
  done
}

expect fork 0 "fork-ok"
expect exec 0 "exec-ok"
expect spawn 0 "spawn-ok"
# Regression: a vfork child shares memory with the parent; its close() and
# signal() went through libgreen's bookkeeping of the parent (the parent's
# blocked reader saw its socket closed).
expect vfork 0 "vfork-ok"
expect exit 7 "atexit-ran"
expect _exit 9 ""
expect quick 5 "at_quick_exit-ran"
expect abort 134 ""
expect segv 139 ""

# daemon: the parent returns at once; the daemon (a new session, reparented)
# writes its file from a thread.
for how in native green; do
  f=$OUT/daemon.$how.out
  rm -f "$f"
  env=()
  [ $how = green ] && env=(env LD_PRELOAD="$LIB")
  timeout -s KILL 30 "${env[@]}" "$OUT/process" daemon "$f" >/dev/null 2>&1
  rc=$?
  for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.1; done
  if [ $rc = 0 ] && grep -q '^daemon-ok [0-9]*$' "$f" 2>/dev/null; then ok "daemon [$how]"; else
    bad "daemon [$how]" "status $rc, file: $(cat "$f" 2>/dev/null)"; fi
done
summary
