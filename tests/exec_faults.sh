#!/usr/bin/env bash
# exec_faults.sh CONTEND SRCDIR
# Faults reach a Python program over exec (examples/exec/file_counter.py):
#   - io rules fail its own calls (io_faults > 0) and the safe program passes;
#   - kills and power cuts land in it and the safe
#     program (flock + fsync + rename) passes with no hang;
#   - its unsafe twin (in place, no fsync) is caught, its un-fsynced
#     writes rolled back by the cuts (power-cut undo > 0).
set -u
contend=$1 src=$2
# The interpreter itself, not a wrapper: pyenv's python3 is a bash script
# that forks a dozen processes per start, each with the sanitizer runtime
# preloaded in instrumented builds (7 s a start under load).  A slow start
# is exec.slow-restart's subject; this test's is the faults.
py=${CONTEND_PYTHON:-$(python3 -c 'import sys; print(sys.executable)')}
prog="$py $src/examples/exec/file_counter.py"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; cat "$dir/out" 2>/dev/null; exit 1; }

stat_of() { # FILE STAT -> the first case's stat
  "$py" -c 'import json,sys; c=json.load(open(sys.argv[1]))["cases"][0]; print(int(c["stats"].get(sys.argv[2], 0)))' "$1" "$2"
}

"$contend" run --workload counter --target exec --procs 2 --ops 20 --seed 3 \
  --io "write:EIO@20%, fsync:EIO@10%" --set "cmd=$prog --mode safe" --quiet \
  --json "$dir/io.json" >"$dir/out" 2>&1 || fail "io run: exit $?"
[ "$(stat_of "$dir/io.json" io_faults)" -gt 0 ] || fail "io rules did not reach the program"

"$contend" run --workload counter --target exec --procs 2 --ops 20 --seed 1 \
  --kill 10 --powercut 10 --set durable=yes --set "cmd=$prog --mode safe" --quiet \
  --json "$dir/cut.json" >"$dir/out" 2>&1 || fail "safe program under kills and cuts: exit $?"
[ "$(stat_of "$dir/cut.json" kills)" -gt 0 ] || fail "no kill landed"

"$contend" run --workload counter --target exec --procs 2 --ops 30 --seed 1 \
  --powercut 10 --set durable=yes --set "cmd=$prog --mode unsafe" --quiet \
  --expect "lost-durable|lost-update|corrupt-store" --json "$dir/unsafe.json" >"$dir/out" 2>&1 ||
  fail "unsafe twin not caught: exit $?"
# Its writes were never fsynced: the cuts must have rolled some back.
[ "$(stat_of "$dir/unsafe.json" powercut_undone)" -gt 0 ] || fail "power cuts undid nothing"
echo "ok"
