#!/usr/bin/env bash
# schema.sh CONTEND SOURCE_DIR - run a few real scenarios (a found
# violation, a pass, a crash with its repro line, repetitions, injected I/O
# faults, a sweep) and validate their run.json and sweep.json against
# docs/schema/.  Small op counts: seconds, and no verdict depends on speed.
set -u
contend=$1 src=$2
python3 -c 'import jsonschema' 2>/dev/null || { echo "schema: no python3-jsonschema"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/contend-schema-XXXXXX")
trap 'rm -rf "$work"' EXIT

run() { # NAME ARGS...: exit codes 0 and 1 are both results to validate
  local name=$1
  shift
  "$contend" run "$@" --quiet --dir "$work/$name" --json "$work/$name.json" >/dev/null 2>&1
  local rc=$?
  if [ $rc -gt 1 ]; then echo "schema: run $name exited $rc"; exit 1; fi
}
run lost-update "$src/scenarios/lost-update.ini" --case nolock
run crash --workload counter --target null --procs 2 --ops 100 --set crash_at=5
run repeat --workload counter --target json-doc --procs 2 --ops 20 --repeat 2
run io-errors "$src/scenarios/io-errors.ini" --case flock-unchecked
run bank --workload bank --target sqlite --procs 2 --ops 20 --keys 4
"$contend" sweep "$src/tests/scenarios/sweep.ini" --case json-doc --param procs=1,2 \
  --dir "$work/sweep" --quiet >/dev/null 2>&1 || { echo "schema: sweep failed"; exit 1; }

python3 "$src/tests/schema_check.py" "$src/docs/schema/run.schema.json" "$work"/*.json || exit 1
python3 "$src/tests/schema_check.py" "$src/docs/schema/sweep.schema.json" "$work/sweep/sweep.json" || exit 1
