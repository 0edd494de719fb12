#!/usr/bin/env bash
# ledger_longline.sh CONTEND DIR - `verify ledger --max-line`: a line beyond
# the limit is an invalid-line and the chain goes on after it; a stream
# without newlines is read in bounded memory (peak RSS well under the
# stream's size), and Python's big integers hash as Python writes them.
set -u
contend=$1 dir=$2
mkdir -p "$dir"
python3 - "$dir" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
prev, lines = "0" * 64, []
for i in range(4):
    r = {"writer": 1, "op": i, "big": 2**80 + i, "note": "caf\u00e9", "prev_hash": prev}
    h = hashlib.sha256(json.dumps(r, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    r["hash"] = h
    lines.append(json.dumps(r))  # insertion order: the streamed path
    prev = h
open(f"{d}/big.jsonl", "w").write("\n".join(lines) + "\n")
# A 200 KiB line of junk between records 2 and 3 (line 3).
open(f"{d}/long.jsonl", "w").write("\n".join(lines[:2] + ["x" * 200000] + lines[2:]) + "\n")
# One longer than the read buffer (4 MiB): read past, never held whole.
open(f"{d}/longer.jsonl", "w").write("\n".join(lines[:2] + ["y" * 6000000] + lines[2:]) + "\n")
PY
fail() { echo "FAIL: $*"; exit 1; }
out=$("$contend" verify ledger "$dir/big.jsonl" --jobs 1) || fail "big integers: $out"
out=$("$contend" verify ledger "$dir/long.jsonl" --jobs 1 --max-line 64k)
[ $? = 1 ] || fail "a long line passed: $out"
echo "$out" | grep -q "^3:[0-9]*: invalid-line: 200000 bytes, longer than the limit of 64000" ||
  fail "no invalid-line for line 3: $out"
echo "$out" | grep -q "chain-gap" && fail "the chain broke at the long line: $out"
out=$("$contend" verify ledger "$dir/longer.jsonl" --jobs 1 --max-line 64k)
[ $? = 1 ] || fail "a line longer than the buffer passed: $out"
echo "$out" | grep -q "^3:[0-9]*: invalid-line: 6000000 bytes, longer than the limit of 64000" ||
  fail "no invalid-line for the 6 MB line 3: $out"
echo "$out" | grep -q "4 records in 5 lines" || fail "the records after the long line were lost: $out"
python3 - "$contend" <<'PY' || exit 1
import resource, subprocess, sys
# 64 MiB without a newline, through a pipe; the limit 64 KiB keeps the buffer small.
zero = subprocess.Popen(["head", "-c", str(64 << 20), "/dev/zero"], stdout=subprocess.PIPE)
r = subprocess.run([sys.argv[1], "verify", "ledger", "-", "--jobs", "1", "--max-line", "64k"],
                   stdin=zero.stdout, capture_output=True, text=True)
zero.wait()
peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(r.stdout.strip())
if r.returncode != 1 or "torn-line" not in r.stdout:
    sys.exit(f"FAIL: exit {r.returncode}, expected a torn-line")
if peak_mb > 40:
    sys.exit(f"FAIL: peak RSS {peak_mb:.0f} MB for a 64 MiB stream")
print(f"peak RSS {peak_mb:.0f} MB for 64 MiB without a newline")
PY
echo ok
