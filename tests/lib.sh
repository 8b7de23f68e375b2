# Sourced by the tests/*/run.sh scripts: where things are, and the PASS/FAIL
# bookkeeping every script shares. The caller sets SUITE (its build
# subfolder) before sourcing; BUILD may come from make (an absolute path).
#   ok NAME / bad NAME REASON   count and print one case
#   need_lib                    stop (with a FAIL) when libgreen.so is missing
#   summary                     print "N passed, N failed"; exit status 1 on failure
set -u
BUILD=${BUILD:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build}
SRC=$(cd "$(dirname "$0")" && pwd)
OUT=$BUILD/$SUITE
LIB=$BUILD/libgreen.so
mkdir -p "$OUT"
pass=0 fail=0
ok() { echo "PASS $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; fail=$((fail + 1)); }
summary() {
  echo "$pass passed, $fail failed"
  [ "$fail" = 0 ]
}
need_lib() {
  [ -f "$LIB" ] && return 0
  bad "libgreen" "$LIB is missing"
  summary
  exit 1
}
