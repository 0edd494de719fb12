#!/usr/bin/env bash
# exec_overhead.sh CONTEND [OPS]
# The exec target's per-op cost on a no-op program (a benchmark, not a test):
# one worker, one thread, the `counter` workload (one integer back per op),
# median latency and throughput of the exec target against the null target
# (the harness alone), and the same with the Python client for reference.
set -eu
contend=$1 ops=${2:-200000}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cc -O2 -o "$dir/noop" "$here/exec_noop.c"
cat > "$dir/noop.py" <<PY
import sys
sys.path.insert(0, "$here/../../clients/python")
import contend_exec
class Noop(contend_exec.Program):
    def incr(self, op):
        return 1
contend_exec.run(Noop())
PY
run() { # LABEL ARGS...
  local label=$1
  shift
  "$contend" run --workload counter --keys 1000 --ops "$ops" --quiet --json "$dir/r.json" "$@" >/dev/null 2>&1 || true  # a no-op store loses every update: only the figures count
  python3 - "$dir/r.json" "$label" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["cases"][0]
n = c["ops"]["ok"] + c["ops"]["fail"] + c["ops"]["info"]
print("%-22s %8d ops  %10.0f ops/s  %7.2f us/op (wall)  p50 %6.2f us  p99 %7.2f us"
      % (sys.argv[2], n, c["throughput_tps"], 1e6 * c["duration_s"] / n,
         c["latency_us"]["p50"], c["latency_us"]["p99"]))
PY
}
run "null target" --target null
run "exec, C no-op" --target exec --set "cmd=$dir/noop"
run "exec, Python client" --target exec --set "cmd=python3 $dir/noop.py" --ops $((ops / 4))
