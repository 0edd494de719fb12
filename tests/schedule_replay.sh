#!/usr/bin/env bash
# schedule_replay.sh CONTEND: the controlled schedule's promises, short.
#   determinism  the same seed under pct three times gives the same counts and
#                the same schedule file (SHA-256);
#   replay       `contend replay` of that run gives that run's counts;
#   shrink       `contend shrink` turns a 3 x 8 nolock lost update into at most
#                2 workers and 8 ops in all, and its replay reproduces.
# No verdict here depends on time: only on counts, hashes and settings.
set -u
contend=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
args=(run --workload counter --target json-doc:nolock --procs 3 --ops 8 --keys 1
      --perturb 0 --schedule pct --seed 3 --expect lost-update --quiet)
fail() { echo "FAIL: $*"; exit 1; }
counts() {
  python3 - "$1" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["cases"][0]
print(" ".join(f"{v['kind']}={v['count']}" for v in c["violations"]), c["schedule"]["sha256"])
PY
}
for i in 1 2 3; do
  "$contend" "${args[@]}" --json "$tmp/$i.json" --dir "$tmp/d$i" >"$tmp/$i.out" 2>&1 ||
    { cat "$tmp/$i.out"; fail "run $i exited $?"; }
  counts "$tmp/$i.json" >"$tmp/$i.counts"
done
cat "$tmp/1.counts"
grep -q "lost-update=" "$tmp/1.counts" || fail "no lost update under pct"
cmp -s "$tmp/1.counts" "$tmp/2.counts" && cmp -s "$tmp/1.counts" "$tmp/3.counts" ||
  fail "same seed, different counts: $(cat "$tmp"/*.counts)"

"$contend" replay "$tmp/1.json" --dir "$tmp/rp" --json "$tmp/rp.json" >"$tmp/rp.out" 2>&1 ||
  { cat "$tmp/rp.out"; fail "replay exited $?"; }
grep -q "same violations and counts" "$tmp/rp.out" || { cat "$tmp/rp.out"; fail "replay differs"; }
counts "$tmp/rp.json" | cmp -s - "$tmp/1.counts" || fail "replay's schedule differs"

"$contend" shrink "$tmp/1.json" --dir "$tmp/sh" --quiet >"$tmp/sh.out" 2>&1 ||
  { cat "$tmp/sh.out"; fail "shrink exited $?"; }
cat "$tmp/sh.out" | sed -n '/shrunk/,$p'
python3 - "$tmp/sh/run.json" <<'PY' || fail "not small enough"
import json, sys
c = json.load(open(sys.argv[1]))["cases"][0]
workers, ops = c["procs"] * c["threads"], c["procs"] * c["threads"] * c["ops_per_thread"]
print("shrunk to", workers, "workers,", ops, "ops")
sys.exit(0 if workers <= 2 and ops <= 8 and c["violations"] else 1)
PY
"$contend" replay "$tmp/sh/run.json" --dir "$tmp/rp2" >"$tmp/rp2.out" 2>&1 ||
  { cat "$tmp/rp2.out"; fail "replay of the shrunk case exited $?"; }
grep -q "same violations and counts" "$tmp/rp2.out" || fail "replay of the shrunk case differs"
echo ok
