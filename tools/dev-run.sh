#!/usr/bin/env bash
# make run: a working server with a demo tenant on loopback.
#   tools/dev-run.sh BUILD_DIR DATA_DIR
# Creates DATA_DIR with tenant example.test and user demo@example.test (the
# password is printed once, when the user is created), then runs petreld in
# the foreground on the development ports. Ctrl-C stops it.
set -euo pipefail
build=${1:-build}
data=${2:-var}
ctl=("$build/petrelctl" -d "$data")
mkdir -p "$data"
if ! "${ctl[@]}" tenant show example.test >/dev/null 2>&1; then
  "${ctl[@]}" tenant add example.test --protocols smtp,pop3,imap
fi
if ! "${ctl[@]}" user show demo@example.test >/dev/null 2>&1; then
  pass=$(head -c 12 /dev/urandom | base64 | tr -d '/+=' | head -c 16)
  printf '%s\n' "$pass" | "${ctl[@]}" user add demo@example.test --password-stdin
  echo "demo user: demo@example.test  password: $pass  (shown once; change it with"
  echo "  printf 'new\\n' | $build/petrelctl -d $data user passwd demo@example.test --password-stdin)"
fi
echo "petreld: data in $data, loopback ports smtp 2525, submission 2587, smtps 2465,"
echo "  pop3 2110, pop3s 2995, imap 2143, imaps 2993, example 2026 (those whose plugin is built)"
exec "$build/petreld" --data "$data" --foreground
