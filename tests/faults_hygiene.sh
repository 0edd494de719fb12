#!/usr/bin/env bash
# faults_hygiene.sh CONTEND: kills, restarts and power cuts leave nothing
# behind.  A kept run of the correct json-doc variant under kills and power
# cuts has no temp file in its store, no fault bookkeeping (undo log, hard
# links), and no process alive afterwards; SIGINT in the middle of a run
# with faults exits 130 and kills every worker and the process-group anchor.
set -u
contend=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp/runs
mkdir -p "$TMPDIR"
fail=0

"$contend" run --workload counter --target json-doc --procs 3 --ops 80 --perturb 100 \
  --kill 10 --powercut 60 --keep --quiet --dir "$tmp/kept" >"$tmp/out" 2>&1
code=$?
[ "$code" = 0 ] || { echo "kill + powercut run: exit $code"; cat "$tmp/out"; fail=1; }
grep -q '"kills": [1-9]' "$tmp/kept/run.json" || { echo "no kills recorded"; fail=1; }
grep -q '"powercuts": [1-9]' "$tmp/kept/run.json" || { echo "no power cuts recorded"; fail=1; }
left=$(find "$tmp/kept" -name 'doc.json.tmp.*')
[ -z "$left" ] || { echo "temp files left: $left"; fail=1; }
[ ! -e "$tmp/kept/cli/faults" ] || { echo "fault bookkeeping left in $tmp/kept/cli/faults"; fail=1; }
sleep 0.2
procs=$(pgrep -f "__worker $tmp" || true)
[ -z "$procs" ] || { echo "workers left running: $procs"; fail=1; }

# Interrupt a run that kills, pauses and cuts the power.
"$contend" run --workload counter --target json-doc --procs 3 --duration 60s --perturb 100 \
  --kill 30 --pause 50 --powercut 200 >"$tmp/out2" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  compgen -G "$TMPDIR/contend-*/cli/history/w2.t0" >/dev/null && break
  sleep 0.05
done
sleep 1
anchor=$(pgrep -P $pid -x contend-group || true)
kill -INT $pid
wait $pid
code=$?
[ "$code" = 130 ] || { echo "interrupted run: expected exit 130, got $code"; cat "$tmp/out2"; fail=1; }
sleep 0.2
procs=$(pgrep -f "__worker $TMPDIR" || true)
[ -z "$procs" ] || { echo "workers left running: $procs"; ps -fp $procs; fail=1; }
if [ -n "$anchor" ] && kill -0 "$anchor" 2>/dev/null; then
  echo "process-group anchor $anchor left running"; fail=1
fi
[ $fail = 0 ] && echo "ok: nothing left behind"
exit $fail
