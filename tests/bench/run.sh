#!/usr/bin/env bash
# make bench: the same unmodified binaries natively and under libgreen (and
# their Go twins where `go` is installed), BENCH_REPS repetitions each, in
# one run. Prints median and min-max per column and the ratio
# native/libgreen; writes $BUILD/bench/results.json.
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
SRC=$(cd "$(dirname "$0")" && pwd)
LIB=$BUILD/libgreen.so EX=$BUILD/examples OUT=$BUILD/bench
REPS=${BENCH_REPS:-5}
mkdir -p "$OUT"
export GREEN_PROCS=${GREEN_PROCS:-2}

GO=""
if command -v go >/dev/null; then
  export GOCACHE=$OUT/go-cache GOPATH=$OUT/go-path GO111MODULE=off
  for g in create_join pingpong; do go build -o "$OUT/go_$g" "$SRC/go/$g.go" || true; done
  GO=yes
else
  echo "(go not installed: apt-get install golang-go for the Go column)"
fi

# name | native args | libgreen args (native runs fewer ops where it is slow) | go args | goal
BENCHES=(
  "create_join|$EX/create_join 20000|$EX/create_join 1000000|create_join 1000000|<= 300 ns (Go here: 279 ns)"
  "pingpong_cond|$EX/pingpong cond 20000|$EX/pingpong cond 1000000|pingpong cond 1000000|<= 150 ns/switch (Go: 131 ns)"
  "pingpong_yield|$EX/pingpong yield 200000|$EX/pingpong yield 1000000|pingpong yield 1000000|<= 150 ns/switch"
)

one() {  # CMD... -> ns_per_op
  timeout -s KILL 300 "$@" 2>/dev/null | sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p' | tail -1
}
stats() {  # values... -> "median min max"
  printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR==0) {print "- - -"; exit}
    m = NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; print m, v[1], v[NR]}'
}

printf '%-15s %22s %22s %22s %9s  %s\n' bench "native ns (min-max)" "libgreen ns (min-max)" "go ns (min-max)" "nat/lg" goal
json="["
for b in "${BENCHES[@]}"; do
  IFS='|' read -r name nat grn gob goal <<<"$b"
  nv=() gv=() ov=()
  for _ in $(seq "$REPS"); do
    nv+=("$(one $nat)")
    gv+=("$(one env LD_PRELOAD="$LIB" $grn)")
    [ -n "$GO" ] && ov+=("$(one "$OUT/go_${gob%% *}" ${gob#* })")
  done
  read -r nm nmin nmax <<<"$(stats "${nv[@]}")"
  read -r gm gmin gmax <<<"$(stats "${gv[@]}")"
  if [ -n "$GO" ]; then read -r om omin omax <<<"$(stats "${ov[@]}")"; else om=- omin=- omax=-; fi
  ratio=$(awk -v a="$nm" -v b="$gm" 'BEGIN {printf "%.1fx", a/b}')
  printf '%-15s %22s %22s %22s %9s  %s\n' "$name" "$nm ($nmin-$nmax)" "$gm ($gmin-$gmax)" "$om ($omin-$omax)" "$ratio" "$goal"
  json+="{\"bench\":\"$name\",\"unit\":\"ns_per_op\",\"native\":$nm,\"libgreen\":$gm,\"go\":\"$om\",\"reps\":$REPS},"
done
echo "${json%,}]" >"$OUT/results.json"
echo "results: $OUT/results.json (GREEN_PROCS=$GREEN_PROCS, $REPS repetitions)"

# Thread-heavy shapes: wall time and kernel threads, from tests/io programs.
if [ -x "$BUILD/io/sleepers" ]; then
  echo
  echo "100,000 sleeping threads (1 s each):"
  LD_PRELOAD="$LIB" "$BUILD/io/sleepers" 100000 | sed 's/^/  libgreen: /'
  "$BUILD/io/sleepers" 10000 | sed 's/^/  native (10,000; 100,000 exceeds pid_max): /'
fi
[ -f "$SRC/greenstat_overhead.sh" ] && { echo; BUILD=$BUILD bash "$SRC/greenstat_overhead.sh"; }
exit 0
