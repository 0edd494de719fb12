#!/usr/bin/env bash
# compare.sh CONTEND BASE NEW EXIT CASE=VERDICT... - one verdict test of
# `contend compare` on synthetic run.json files (tests/compare/, written by
# tests/compare/make.py).
#
# The files are made up, figure by figure, so the verdicts depend on
# compare's rules alone and never on the speed or the load of the machine
# running the test.  Whether compare keeps quiet on two real runs of one
# build, and finds a real 25 % slowdown, is a measurement, not a CI test: it
# is reported in the docs with its command (tests/scenarios/compare-demo.ini).
#
# Requires the exit code EXIT, each CASE's verdict, and a "why" on every
# figure that is not `slower`, `faster` or `no change` within the floor.
set -u
contend=$1 base=$2 new=$3 want_code=$4
shift 4
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$contend" compare "$base" "$new" --json "$out/cmp.json" --markdown "$out/cmp.md" >"$out/cmp.txt"
code=$?
cat "$out/cmp.txt"
[ "$code" = "$want_code" ] || { echo "FAIL: compare exited $code, expected $want_code"; exit 1; }
python3 - "$out/cmp.json" "$@" <<'PY' || exit 1
import json, sys
cmp = json.load(open(sys.argv[1]))
want = dict(s.split("=", 1) for s in sys.argv[2:])
got = {c["name"]: c["verdict"] for c in cmp["cases"]}
bad = [f"{n}: {got.get(n)!r}, expected {v!r}" for n, v in want.items() if got.get(n) != v]
for c in cmp["cases"]:
    for f in c.get("figures", []):
        if f["verdict"] == "noisy — re-run" and not f.get("why"):
            bad.append(f"{c['name']} {f['label']}: noisy without a why")
    if "probe" not in c:
        bad.append(f"{c['name']}: no probe drift")
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
if [ "$want_code" = 3 ]; then
  grep -q '\*\*slower\*\*' "$out/cmp.md" || { echo "FAIL: the Markdown does not show slower"; exit 1; }
fi
echo ok
