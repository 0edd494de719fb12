#!/usr/bin/env bash
# sqlite_bare.sh BUILD_DIR [OPS] [ROUNDS]
#
# contend's measured tx/s for the wal-immediate counter (1 process, 1 thread,
# synchronous=NORMAL) against a bare C loop doing the same transactions
# (tests/bench/sqlite_bare.c).  Runs both ROUNDS times, alternating so that
# load on a shared machine hits both alike, and prints every figure and the
# medians.  Prints; asserts nothing (the machine is shared and noisy).
set -euo pipefail
build=${1:?usage: sqlite_bare.sh BUILD_DIR [OPS] [ROUNDS]}
ops=${2:-20000}
rounds=${3:-5}
contend=$build/contend
bare=$build/tests/sqlite_bare
tmp=$(mktemp -d "${TMPDIR:-/tmp}/contend-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

c_tps=() b_tps=()
for r in $(seq 1 "$rounds"); do
  "$contend" run --workload counter --target sqlite:wal-immediate --synchronous normal \
    --procs 1 --threads 1 --ops "$ops" --quiet --json "$tmp/run.json" >/dev/null
  c=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cases"][0]["throughput_tps"])' "$tmp/run.json")
  rm -f "$tmp"/db.sqlite*
  b=$("$bare" "$tmp/db.sqlite" "$ops" | sed -n 's/.*: \([0-9.]*\) tx\/s/\1/p')
  rm -f "$tmp"/db.sqlite*
  printf 'round %d: contend %.1f tx/s, bare %.1f tx/s\n' "$r" "$c" "$b"
  c_tps+=("$c") b_tps+=("$b")
done
python3 - "${c_tps[*]}" "${b_tps[*]}" <<'PY'
import statistics, sys
c = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
mc, mb = statistics.median(c), statistics.median(b)
print(f"median: contend {mc:.1f} tx/s, bare loop {mb:.1f} tx/s: contend = {100 * mc / mb:.1f} % of bare")
PY
