#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each (default 30),
# seeded from tests/fuzz/corpus/<name>/ (fuzz_mime -> corpus/mime). New inputs
# go to a temp dir, never into the repository. Fails on the first crash.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
shopt -s nullglob
targets=("$build"/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
  echo "no fuzz targets in $build/fuzz" >&2
  exit 1
fi
for t in "${targets[@]}"; do
  name=$(basename "$t")
  seed="$here/corpus/${name#fuzz_}"
  work=$(mktemp -d)
  echo "== $name: ${seconds}s, seeds from ${seed#$here/}"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$work/")
  if ! "$t" "${args[@]}" "$work" ${seed:+$( [ -d "$seed" ] && echo "$seed")} 2>"$work/log"; then
    tail -n 40 "$work/log" >&2
    echo "FAIL: $name (artifacts in $work)" >&2
    exit 1
  fi
  grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' "$work/log" | tail -n 2 || true
  rm -rf "$work"
done
echo "fuzz: ${#targets[@]} targets ran clean"
