#!/usr/bin/env bash
# sigint.sh CONTEND: interrupt a running case with SIGINT and check that
# contend exits 130, prints the run directory it kept, leaves no process
# behind, and wrote nothing else under its TMPDIR.
set -u
contend=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp/runs
mkdir -p "$TMPDIR"

"$contend" run --workload counter --target json-doc --procs 3 --threads 2 --duration 60s \
  >"$tmp/out" 2>&1 &
pid=$!
# Wait until the workers are running (their history files exist).
for _ in $(seq 1 200); do
  compgen -G "$TMPDIR/contend-*/cli/history/w2.t1" >/dev/null && break
  sleep 0.05
done
sleep 0.3
kill -INT $pid
wait $pid
code=$?
fail=0
[ "$code" = 130 ] || { echo "expected exit 130, got $code"; fail=1; }
kept=$(sed -n 's/^contend: interrupted; run directory kept: //p' "$tmp/out")
[ -n "$kept" ] && [ -d "$kept" ] || { echo "no kept run directory printed"; fail=1; }
others=$(find "$TMPDIR" -mindepth 1 -maxdepth 1 ! -path "$kept")
[ -z "$others" ] || { echo "left behind: $others"; fail=1; }
sleep 0.2
left=$(pgrep -f "__worker $TMPDIR" || true)
[ -z "$left" ] || { echo "workers left running: $left"; ps -fp $left; fail=1; }
if [ $fail = 1 ]; then cat "$tmp/out"; exit 1; fi
echo "ok: exit 130, kept $kept, no process left"
