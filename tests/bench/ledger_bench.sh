#!/usr/bin/env bash
# ledger_bench.sh CONTEND FSYNC_RATE [ROUNDS] - the ledger figures of issue 3.
#
#   1. the raw write()+fsync() rate of the disk ($TMPDIR) against
#      jsonl-ledger:flock-tailscan, 1 writer, fsync per append;
#   2. flock-tailscan against batched, 2 processes x 32 threads, fsync each;
#   3. contend verify ledger on 1,000,000 records of 200 bytes.
#
# The machine is shared and its disk's fsync latency wanders, so the two
# sides of each comparison run alternately, ROUNDS times (default 5), and
# medians are compared.  Timing only: nothing here asserts a figure.
set -euo pipefail
contend=$1 fsync_rate=$2 rounds=${3:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ledger-bench-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
tps() { # tps CASE: the case's tx/s from run.json
  rm -rf "$tmp/run"
  "$contend" run "$root/scenarios/ledger-throughput.ini" --case "$1" --quiet --dir "$tmp/run" \
    --json "$tmp/run.json" >/dev/null
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["cases"][0]["throughput_tps"])' "$tmp/run.json"
}
raw() { "$fsync_rate" "$tmp" 1000 256 | sed 's/.*: \([0-9.]*\)\/s$/\1/'; }

echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
: >"$tmp/raw"; : >"$tmp/one"; : >"$tmp/single"; : >"$tmp/batched"
for i in $(seq "$rounds"); do
  raw >>"$tmp/raw"
  tps single-1x1 >>"$tmp/one"
  tps single >>"$tmp/single"
  tps batched >>"$tmp/batched"
done
r=$(median <"$tmp/raw") o=$(median <"$tmp/one") s=$(median <"$tmp/single") b=$(median <"$tmp/batched")
echo "raw write+fsync (256 B, 1 writer):      $r/s   rounds: $(tr '\n' ' ' <"$tmp/raw")"
echo "flock-tailscan 1x1, fsync each:         $o tx/s   rounds: $(tr '\n' ' ' <"$tmp/one")"
awk -v o="$o" -v r="$r" 'BEGIN { printf "  = %.0f %% of the raw rate\n", 100 * o / r }'
echo "flock-tailscan 2x32, fsync each:        $s tx/s   rounds: $(tr '\n' ' ' <"$tmp/single")"
echo "batched 2x32 (batch 64), fsync each:    $b tx/s   rounds: $(tr '\n' ' ' <"$tmp/batched")"
awk -v b="$b" -v s="$s" 'BEGIN { printf "  = %.1f x flock-tailscan\n", b / s }'

python3 "$root/tests/bench/gen_ledger.py" "$tmp/verify.jsonl" 1000000
echo "verify input: $(wc -c <"$tmp/verify.jsonl") bytes, 1000000 records"
: >"$tmp/verify"
for i in $(seq "$rounds"); do
  "$contend" verify ledger "$tmp/verify.jsonl" 2>&1 >/dev/null |
    sed -n 's/.*: \([0-9]*\) records\/s.*/\1/p' >>"$tmp/verify"
done
echo "contend verify ledger (1M x 200 B):     $(median <"$tmp/verify") records/s   rounds: $(tr '\n' ' ' <"$tmp/verify")"
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
