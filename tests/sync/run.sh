#!/usr/bin/env bash
# tests/sync: the pthread synchronisation family, C11 threads and the C++
# library's primitives, as plain programs compiled here. Each runs natively
# and under LD_PRELOAD=libgreen.so with GREEN_PROCS=2 and GREEN_PROCS=1, so a
# test that passes only one way is caught. Under libgreen, the programs that
# take a kernel-thread ceiling get GREEN_PROCS + 4.
# Prints PASS/FAIL per case and "N passed, N failed"; exit 1 on a failure.
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
SRC=$(cd "$(dirname "$0")" && pwd)
OUT=$BUILD/sync
LIB=$BUILD/libgreen.so
mkdir -p "$OUT"
pass=0 fail=0

build() {  # source -> binary path (empty on failure)
  local src=$1 name bin
  name=$(basename "${src%.*}")
  bin=$OUT/$name
  if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ] || [ "$SRC/common.h" -nt "$bin" ]; then
    case $src in
      *.c) gcc -O2 -g -Wall -Wextra -Werror -pthread "$src" -o "$bin" || return 1 ;;
      *.cpp) g++ -std=c++20 -O2 -g -Wall -Wextra -Werror -pthread "$src" -o "$bin" || return 1 ;;
    esac
  fi
  echo "$bin"
}

# name | arguments natively | arguments under libgreen (@ = GREEN_PROCS + 4)
CASES=(
  "errors||"
  "mutex_sum|1000 10000|1000 10000"
  "prodcons||"
  "rwlock_excl||"
  "barrier_gen||"
  "sem_balance||"
  "robust_recover||"
  "robust_exit_order||"
  "cond_morph||"
  "handoff_fair||"
  "mutex_starve||"
  "mutex_mix||"
  "spin_sum||"
  "pshared_fork||"
  "pshared_owner||"
  "many_waiters|10000|10000 @"
  "c11||@"
  "cxx||@"
  "raw_futex||"
)

check() {  # label command...
  local label=$1 out
  shift
  if out=$(timeout 120 "$@" 2>&1); then
    echo "PASS $label"
    pass=$((pass + 1))
  else
    echo "FAIL $label (exit $?)"
    echo "$out" | tail -5 | sed 's/^/    /'
    fail=$((fail + 1))
  fi
}

for c in "${CASES[@]}"; do
  IFS='|' read -r name nat grn <<<"$c"
  src=$SRC/$name.c
  [ -f "$src" ] || src=$SRC/$name.cpp
  if ! bin=$(build "$src"); then
    echo "FAIL $name (does not compile)"
    fail=$((fail + 1))
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
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
