#!/usr/bin/env bash
# sqlite_no_corruption.sh CONTEND SCENARIO CASE: the case meets its
# expectation after at least one power cut, and no run of it found the
# database damaged (integrity, corrupt-store), which an expectation such as
# lost-update alone would let pass.
set -u
contend=$1 scenario=$2 case=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$contend" run "$scenario" --case "$case" --quiet --json "$tmp/run.json" >"$tmp/out" 2>&1
code=$?
if [ "$code" != 0 ]; then
  echo "$case: exit $code"; cat "$tmp/out"; exit 1
fi
python3 - "$tmp/run.json" "$case" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
bad = []
for c in run["cases"]:
    for r in c.get("runs", [c]):
        cuts = r.get("stats", {}).get("powercuts", 0)
        kinds = sorted({v["kind"] for v in r.get("violations", [])})
        if cuts < 1:
            bad.append("seed %s: no power cut happened" % r.get("seed"))
        damaged = [k for k in kinds if k in ("integrity", "corrupt-store")]
        if damaged:
            bad.append("seed %s: %s" % (r.get("seed"), ", ".join(damaged)))
        print("%s seed %s: %d power cuts, found %s" % (sys.argv[2], r.get("seed"), cuts,
                                                        ", ".join(kinds) or "nothing"))
if bad:
    print("damaged or untested:", "; ".join(bad))
    sys.exit(1)
PY
