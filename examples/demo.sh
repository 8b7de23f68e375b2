#!/usr/bin/env bash
# make demo: an unmodified legacy program natively and under libgreen, and
# what the kernel saw (eBPF greenstat when we can load BPF, /proc otherwise).
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
LIB=$BUILD/libgreen.so EX=$BUILD/examples GS=$BUILD/ebpf/greenstat
export GREEN_PROCS=${GREEN_PROCS:-2}

echo "== many_threads 100000: 100,000 threads alive at once =="
echo "-- native (kernel.pid_max = $(cat /proc/sys/kernel/pid_max)):"
"$EX/many_threads" 100000 || echo "   (exit status $?)"
echo "-- LD_PRELOAD=libgreen.so (GREEN_PROCS=$GREEN_PROCS):"
LD_PRELOAD="$LIB" "$EX/many_threads" 100000
echo
if [ "$(id -u)" = 0 ] && [ -x "$GS" ]; then
  echo "== greenstat --compare: 20,000 threads alive at once, as the kernel sees it =="
  "$GS" --compare --libgreen "$LIB" -- "$EX/many_threads" 20000
else
  echo "== (greenstat needs root and build/ebpf/greenstat: kernel view from /proc instead) =="
  "$EX/many_threads" 20000
  LD_PRELOAD="$LIB" "$EX/many_threads" 20000
fi
echo
echo "== create+join and ping-pong, native vs libgreen =="
for cmd in "create_join 20000" "pingpong cond 20000" "pingpong yield 200000"; do
  n=$("$EX"/$cmd | sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p')
  g=$(LD_PRELOAD="$LIB" "$EX"/$cmd | sed -n 's/.*ns_per_op=\([0-9.]*\).*/\1/p')
  printf '  %-24s native %10s ns   libgreen %8s ns   (%sx)\n' "$cmd" "$n" "$g" "$(awk -v a="$n" -v b="$g" 'BEGIN{printf "%.0f", a/b}')"
done
