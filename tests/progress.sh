#!/usr/bin/env bash
# progress.sh CONTEND - the progress line is drawn on a terminal, and only
# there: not when stderr is a file or a pipe, not with --quiet.  script(1)
# gives the command a terminal.
set -u
contend=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
args="run --workload counter --target null --delay_ns 2000 --duration 1500ms"
fail=0
line='\[1/1\] cli: [0-9]+ ops in [0-9.]+/1\.5 s, [0-9]+ tx/s, 0 violations so far'

script -qec "$contend $args" "$tmp/tty.txt" >/dev/null 2>&1
grep -Eq "$line" "$tmp/tty.txt" || { echo "no progress line on a terminal"; fail=1; }

script -qec "$contend $args --quiet" "$tmp/quiet.txt" >/dev/null 2>&1
grep -q "so far" "$tmp/quiet.txt" && { echo "a progress line despite --quiet"; fail=1; }

$contend $args >"$tmp/out.txt" 2>"$tmp/err.txt"
grep -q "so far" "$tmp/err.txt" && { echo "a progress line on a non-terminal"; fail=1; }

if [ $fail = 1 ]; then
  for f in tty quiet err; do echo "---- $f ----"; cat -v "$tmp/$f.txt"; done
  exit 1
fi
echo "ok: progress on a terminal only"
