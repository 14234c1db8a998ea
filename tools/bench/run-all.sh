#!/usr/bin/env bash
# run-all.sh BUILD_DIR [ARGS...] - runs every benchmark program in BUILD_DIR/bench
# with ARGS (e.g. --quick), a header before each; exits non-zero if one fails.
set -u
build="${1:-build}"
shift || true
dir="$build/bench"
if [ ! -d "$dir" ]; then
  echo "run-all.sh: no $dir (build first: make build)" >&2
  exit 1
fi
failed=()
ran=0
for prog in "$dir"/*; do
  [ -f "$prog" ] && [ -x "$prog" ] || continue
  name="$(basename "$prog")"
  echo "=== $name $* ==="
  ran=$((ran + 1))
  if ! "$prog" "$@"; then
    echo "=== $name FAILED ===" >&2
    failed+=("$name")
  fi
  echo
done
if [ "$ran" -eq 0 ]; then
  echo "run-all.sh: no benchmark programs in $dir" >&2
  exit 1
fi
if [ "${#failed[@]}" -gt 0 ]; then
  echo "run-all.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run-all.sh: $ran benchmark(s) passed"
