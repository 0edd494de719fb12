#!/usr/bin/env bash
# verify_bench.sh CONTEND [N] - CPU time of `contend verify ledger --jobs 1`
# against `sha256sum` on the same file: N (default 1,000,000) records of
# ~290 bytes with keys in insertion order, as Python's json.dumps(rec)
# writes them (so every line takes the streamed canonical path, none the
# already-canonical fast path).  The goal is verify <= 1.3x sha256sum.
#
# CPU time (user + system of the child, from getrusage), not wall time: it
# is what the work costs, and it moves little with the machine's load.
# Each tool runs 3 times, alternating; the best runs are compared (on a
# loaded machine the least disturbed run is the closest to the work's own
# cost), and the medians are shown beside them.  A benchmark, not a test:
# run it by hand, on a quiet machine if there is one.
set -eu
contend=$1 n=${2:-1000000}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 "$here/gen_ledger.py" "$tmp/ledger.jsonl" "$n" --insertion-order
python3 - "$contend" "$tmp/ledger.jsonl" "$n" <<'PY'
import os, resource, statistics, subprocess, sys
contend, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
size = os.path.getsize(path)

def cpu(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} exited {r.returncode}: {r.stdout[-300:]} {r.stderr[-300:]}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), r

v, s = [], []
for _ in range(3):
    t, r = cpu([contend, "verify", "ledger", path, "--jobs", "1"])
    v.append(t)
    t, _ = cpu(["sha256sum", path])
    s.append(t)
print(r.stderr.strip())
bv, bs = min(v), min(s)
mv, ms = statistics.median(v), statistics.median(s)
print(f"input: {n} records, {size} bytes ({size / n:.0f} B/record), keys in insertion order")
print(f"contend verify ledger --jobs 1: CPU best {bv:.3f} s, median {mv:.3f} s "
      f"(runs {', '.join(f'{x:.3f}' for x in v)}) = {n / bv / 1e6:.2f} M records/s of CPU")
print(f"sha256sum:                      CPU best {bs:.3f} s, median {ms:.3f} s "
      f"(runs {', '.join(f'{x:.3f}' for x in s)})")
print(f"ratio verify / sha256sum: best {bv / bs:.2f}x, median {mv / ms:.2f}x (goal <= 1.3x)")
PY
