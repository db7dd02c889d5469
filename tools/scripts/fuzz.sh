#!/usr/bin/env bash
# Builds the libFuzzer targets (preset "fuzz": Clang 14, ASan + UBSan) and runs each on its
# seed corpus for a while (STYLE.md section 8): CI's smoke run of every decoder of outside bytes.
#
#   tools/scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60). Targets: every tests/fuzz_corpus/<target>/ (default), or
# those named. The seed corpus is only read: what the run finds goes to a scratch directory.
# A crash, a sanitizer report, a leak or an input slower than 10 s fails the run; the input is
# kept in build/fuzz/findings/<target>/ (add it to the corpus once fixed, as a regression).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}
if [ "$#" -gt 0 ]; then shift; fi
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: SECONDS must be a positive whole number, not '$seconds'" >&2
  exit 2
fi
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then
  for dir in tests/fuzz_corpus/*/; do targets+=("$(basename "$dir")"); done
fi
for target in "${targets[@]}"; do
  if [ ! -d "tests/fuzz_corpus/$target" ]; then
    echo "fuzz.sh: no seed corpus tests/fuzz_corpus/$target/" >&2
    exit 2
  fi
done

bash tools/scripts/install_deps.sh clang-14 libclang-rt-14-dev
bash tools/scripts/build.sh fuzz "${targets[@]}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
  binary=$(find build/fuzz -type f -perm -u+x -name "$target" | head -n 1)
  if [ -z "$binary" ]; then
    echo "fuzz.sh: the fuzz preset built no binary named $target" >&2
    exit 2
  fi
  findings="build/fuzz/findings/$target"
  mkdir -p "$findings" "$scratch/$target"
  echo "== fuzzing $target for $seconds s (seeds: tests/fuzz_corpus/$target/)"
  # The first directory receives new inputs; the seeds are read from the second.
  if ! "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$findings/" \
      "$scratch/$target" "tests/fuzz_corpus/$target" > "$scratch/$target.log" 2>&1; then
    tail -n 60 "$scratch/$target.log" >&2
    echo "fuzz.sh: $target failed; the input is in $findings/" >&2
    exit 1
  fi
  grep -E "^stat::number_of_executed_units|^Done " "$scratch/$target.log" || true
done
echo "== fuzzing passed: ${targets[*]}"
