#!/usr/bin/env bash
# tests/cancel: thread cancellation (issue 6) as plain pthread programs
# compiled here. Each runs natively and under LD_PRELOAD=libgreen.so with
# GREEN_PROCS=2 and GREEN_PROCS=1, so a test that passes only one way is
# caught. cleanup.c is built twice: plain C (pthread_cleanup_push is a
# setjmp + __pthread_register_cancel) and with -fexceptions (the cleanup
# attribute, run by the unwinder). Under libgreen, `many` must keep the
# kernel's thread count at GREEN_PROCS + 4 while 10,000 threads wait.
# Prints PASS/FAIL per case and "N passed, N failed"; exit 1 on a failure.
SUITE=cancel
source "$(dirname "$0")/../lib.sh"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

build() {  # name source [extra flags...] -> binary path (empty on failure)
  local name=$1 src=$2 bin
  shift 2
  bin=$OUT/$name
  if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ "$SRC/common.h" -nt "$bin" ] || [ "$0" -nt "$bin" ]; then
    case $src in
      *.c) gcc -O2 -g -Wall -Wextra -Werror -pthread "$@" "$src" -o "$bin" || return 1 ;;
      *.cpp) g++ -std=c++20 -O2 -g -Wall -Wextra -Werror -pthread "$@" "$src" -o "$bin" || return 1 ;;
    esac
  fi
  echo "$bin"
}

# name | source | extra compiler flags | arguments natively | under libgreen (@ = GREEN_PROCS + 4)
CASES=(
  "points|points.c|||"
  "cleanup|cleanup.c|||"
  "cleanup-fexceptions|cleanup.c|-fexceptions||"
  "state|state.c|||"
  "cxx|cxx.cpp|||"
  "many|many.c||1000|10000 @"
  "handler_eintr|handler_eintr.c|||"
)

check() {  # label command...
  local label=$1 out rc
  shift
  out=$(timeout -s KILL 120 "$@" 2>&1)
  rc=$?
  if [ $rc = 0 ]; then ok "$label"; return; fi
  bad "$label" "exit status $rc$([ $rc = 137 ] && echo ' (killed after 120 s)')"
  echo "$out" | grep -v '^ok ' | tail -8 | sed 's/^/    /'
}

need_lib
for c in "${CASES[@]}"; do
  IFS='|' read -r name src flags nat grn <<<"$c"
  # shellcheck disable=SC2086
  if ! bin=$(build "$name" "$SRC/$src" $flags); then
    bad "$name" "does not compile"
    continue
  fi
  # shellcheck disable=SC2086
  check "$name native" "$bin" $nat
  for procs in 2 1; do
    args=${grn//@/$((procs + 4))}
    # shellcheck disable=SC2086
    check "$name libgreen GREEN_PROCS=$procs" env GREEN_PROCS=$procs LD_PRELOAD="$LIB" "$bin" $args
  done
done
summary
