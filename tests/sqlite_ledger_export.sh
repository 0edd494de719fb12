#!/usr/bin/env bash
# sqlite_ledger_export.sh CONTEND: the ledger the sqlite target keeps as rows
# and exports to store/ledger.jsonl is a valid hash-chained ledger for
# `contend verify ledger` and for Python's own json + hashlib, line by line
# what json.dumps(rec, sort_keys=True, separators=(",", ":")) writes; and
# read_state leaves no copy or temp file in the store.
set -u
contend=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
fail=0
"$contend" run --workload ledger --target sqlite:wal-immediate --procs 2 --threads 2 --ops 25 \
  --perturb 50 --keep --dir "$tmp/run" --quiet >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
ledger=$tmp/run/cli/store/ledger.jsonl
"$contend" verify ledger "$ledger" || fail=1
python3 - "$ledger" <<'PY' || fail=1
import hashlib, json, sys
prev, n = "0" * 64, 0
for line in open(sys.argv[1], encoding="utf-8"):
    rec = json.loads(line)
    h = rec.pop("hash")
    body = json.dumps(rec, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(body.encode()).hexdigest() == h, "bad hash on line %d" % (n + 1)
    assert rec["prev_hash"] == prev, "chain broken on line %d" % (n + 1)
    assert rec["seq"] == n, "seq %s on line %d" % (rec["seq"], n + 1)
    rec["hash"] = h
    assert line == json.dumps(rec, sort_keys=True, separators=(",", ":")) + "\n", line
    prev, n = h, n + 1
assert n == 100, "%d records, expected 100" % n
print("python: %d records, canonical, chained" % n)
PY
left=$(find "$tmp/run/cli/store" -name '.read-state-*' -o -name '*.export')
[ -z "$left" ] || { echo "left in the store: $left"; fail=1; }
exit $fail
