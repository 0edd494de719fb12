#!/usr/bin/env bash
# faults_replay.sh CONTEND ARGS...: run `contend run ARGS... --json` twice and
# require the same faults, at the same workers, ops and places (times and
# their order aside):
# a failing run's repro line must bring back the same fault plan.
set -u
contend=$1
shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
for i in 1 2; do
  "$contend" run "$@" --quiet --json "$tmp/$i.json" >"$tmp/$i.out" 2>&1
done
faults() {
  python3 - "$1" <<'PY'
import json, re, sys
run = json.load(open(sys.argv[1]))
for c in run["cases"]:
    for r in c["runs"]:
        for e in r["events"]:
            # Times and durations vary; who, which op, where and what do not.
            print(e["kind"], re.sub(r"[+]?[0-9.]+ ms", "T", e["detail"]))
PY
}
faults "$tmp/1.json" | sort >"$tmp/1.faults"
faults "$tmp/2.json" | sort >"$tmp/2.faults"
n=$(wc -l <"$tmp/1.faults")
if [ "$n" -lt 3 ]; then
  echo "too few faults to compare ($n)"; cat "$tmp/1.out"; exit 1
fi
if ! diff "$tmp/1.faults" "$tmp/2.faults"; then
  echo "the two runs injected different faults"; exit 1
fi
echo "ok: $n faults, the same in both runs"
