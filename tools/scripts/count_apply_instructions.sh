#!/usr/bin/env bash
# Counts the instructions the projection runner spends applying entries (ProjectionRunner::
# ApplyGroups and everything it calls: the views' folds and writing their table files), over
# projection_bench's build and rebuild of a small generated chain, under callgrind.
#
# Why: on a shared 2-core machine the CPU time of one binary varies by 10-20 % between runs,
# which hides changes of a few per cent; instruction counts do not vary (they miss cache
# misses, so confirm a change's effect on time with projection_bench as well).
#
# usage: tools/scripts/count_apply_instructions.sh [BENCH_BINARY] [EVENTS]
#   BENCH_BINARY: default build/prof/tools/bench/projection_bench (a Release build with
#                 -DTL_BUILD_BENCHMARKS=ON); EVENTS: default 50000 (~4 minutes).
set -euo pipefail
bench="${1:-build/prof/tools/bench/projection_bench}"
events="${2:-50000}"
if ! command -v valgrind > /dev/null; then
  echo "valgrind is not installed: apt-get install -y valgrind" >&2
  exit 1
fi
if [[ ! -x "$bench" ]]; then
  echo "no benchmark binary at $bench (build projection_bench in a Release tree)" >&2
  exit 1
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
valgrind --tool=callgrind --toggle-collect='*ProjectionRunner::ApplyGroups*' \
  --callgrind-out-file="$work/callgrind.out" \
  "$bench" --events "$events" --traces 1 --dir "$work/bench" > "$work/log" 2>&1 || {
  tail -20 "$work/log" >&2
  exit 1
}
total="$(callgrind_annotate "$work/callgrind.out" 2>/dev/null | grep 'PROGRAM TOTALS' | awk '{print $1}')"
echo "instructions applying ${events} events twice (build + rebuild): ${total}"
