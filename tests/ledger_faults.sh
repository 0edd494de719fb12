#!/usr/bin/env bash
# ledger_faults.sh CONTEND SCENARIOS_DIR: what the ledger's fault cases claim
# beyond their verdicts, on seed 1.  The kills really tore lines and the cuts
# happened (a clean verdict alone would also come from kills that never tore
# anything); durability=none and =batch lose acknowledged appends as
# missing-append and never as lost-durable (they promise nothing: the
# target's durable() says so per case); and no worker is left behind.
# The verdicts on seeds 1..N are faults.crash.seeds-1-N and
# faults.powercut.seeds-1-N (N = CONTEND_FAULT_SEEDS), which run the whole files.
set -u
contend=$1
scen=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp/runs
mkdir -p "$TMPDIR"
fail=0

# check FILE CASE PYTHON-CONDITION [RUN-ARGS...]: the case passes, and the
# condition holds over s (stats summed over its runs) and k (violation kinds).
check() {
  local file=$1 case=$2 cond=$3
  shift 3
  "$contend" run "$scen/$file.ini" --case "$case" --quiet --json "$tmp/$case.json" "$@" \
    >"$tmp/$case.out" 2>&1
  local got=$?
  if [ "$got" != 0 ]; then
    echo "$file.ini [$case]: exit $got"; cat "$tmp/$case.out"; fail=1; return
  fi
  if ! python3 - "$tmp/$case.json" "$cond" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["cases"][0]
s, k = {}, []
for r in c.get("runs") or [c]:
    for n, v in r.get("stats", {}).items():
        s[n] = s.get(n, 0) + v
    k += [v["kind"] for v in r.get("violations", [])]
ok = eval(sys.argv[2], {"s": s, "k": k})
if not ok:
    print("stats:", {n: v for n, v in s.items() if not n.startswith("rss")}, "kinds:", k)
sys.exit(0 if ok else 1)
PY
  then
    echo "$file.ini [$case]: not true: $cond"; fail=1
  fi
}

# Whether a kill tears a line depends on where the line meets a page
# boundary, which moves with the timestamps' lengths: a kill of this case
# tears about one time in five, so 8 seeds (about 50 kills) make a run that
# tears nothing a one-in-10^5 event.  The lone nolock-split writer tears
# about every other kill; --kill 5 gives it about 20.
check crash ledger-flock-tailscan-write \
  "s['kills'] >= 20 and s.get('ledger_tails_cut', 0) >= 1 and not k" --repeat 8
check crash ledger-nolock-split-alone \
  "s['kills'] >= 10 and s.get('ledger_tails_cut', 0) >= 1 and not k" --kill 5
check powercut ledger-none \
  "s['powercuts'] >= 1 and 'missing-append' in k and 'lost-durable' not in k"
check powercut ledger-batch \
  "s['powercuts'] >= 1 and 'missing-append' in k and 'lost-durable' not in k"

sleep 0.2
procs=$(pgrep -f "__worker $TMPDIR" || true)
[ -z "$procs" ] || { echo "workers left running: $procs"; fail=1; }
[ $fail = 0 ] && echo "ok: torn tails cut, non-durable losses not called lost-durable"
exit $fail
