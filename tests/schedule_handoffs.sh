#!/usr/bin/env bash
# schedule_handoffs.sh CONTEND COND_TURN_PLUGIN: calls that would block under a
# controlled schedule are hand-offs, not the watchdog's fallback, short.
#   exec lock    an exec program's own flock (examples/exec/json_counter.py
#                --lock, 2 x 2) under schedule = random, perturb 0: clean, the
#                program's blocked flocks handed over through its worker
#                (`block flock` decisions), no fallback (run.json's
#                cases[0].schedule.fallback is null); the same seed twice
#                gives the same schedule (SHA-256);
#   exec poll    the same program taking its lock as the filelock package
#                does (LOCK_NB, then time.sleep: clock_nanosleep): clean,
#                its sleeps handed over (`block sleep`), no fallback;
#   exec nolock  the same program without its lock still loses updates;
#   cond         threads waiting for each other on condition variables
#                (tests/plugin_cond_turn.c): clean, no fallback, `block cond`
#                and `block mutex` decisions;
#   in-process   json-doc:flock: `block flock` decisions, no fallback.
# No verdict here depends on time: only on verdicts, counts and hashes (a
# fallback is what a missing hand-off leads to, whatever the machine's speed).
set -u
contend=$1
plugin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp
adapter="${CONTEND_PYTHON:-python3} $PWD/examples/exec/json_counter.py"
fail() { echo "FAIL: $*"; exit 1; }
# check RUN.json VERDICT NAME...: the case's verdict, no fallback, and at
# least one `block NAME` decision in its schedule file for each NAME.
check() {
  python3 - "$@" <<'PY'
import json, sys
path, verdict, names = sys.argv[1], sys.argv[2], sys.argv[3:]
c = json.load(open(path))["cases"][0]
s = c["schedule"]
blocked = {}
for line in open(s["file"]):
    w = line.split()
    if len(w) == 5 and w[3] == "block":
        blocked[w[4]] = blocked.get(w[4], 0) + 1
print(f"{c['name']}: {c['verdict']}, {s['steps']} decisions, {s['handoffs']} hand-offs, "
      f"blocked {blocked}, fallback {s['fallback']}")
ok = c["verdict"] == verdict and s["fallback"] is None and all(blocked.get(n) for n in names)
sys.exit(0 if ok else 1)
PY
}
sha() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cases"][0]["schedule"]["sha256"])' "$1"; }
run() { # NAME CONTEND-ARGS...
  local name=$1
  shift
  "$contend" run --perturb 0 --schedule random --seed 3 --quiet --json "$tmp/$name.json" \
    --dir "$tmp/$name" "$@" >"$tmp/$name.out" 2>&1
  local rc=$?
  [ $rc -eq 0 ] || { cat "$tmp/$name.out"; fail "$name exited $rc"; }
}

exec_lock=(--workload counter --target exec --set "cmd=$adapter --lock" --procs 2 --threads 2
           --keys 2 --ops 6)
run lock1 "${exec_lock[@]}"
check "$tmp/lock1.json" pass flock || fail "exec --lock: not clean, or a fallback, or no hand-off"
run lock2 "${exec_lock[@]}"
[ "$(sha "$tmp/lock1.json")" = "$(sha "$tmp/lock2.json")" ] || fail "exec --lock: same seed, another schedule"

run poll --workload counter --target exec --set "cmd=$adapter --lock --poll" --procs 2 \
  --threads 2 --keys 2 --ops 6
check "$tmp/poll.json" pass sleep || fail "exec polling lock: not clean, or a fallback, or no hand-off"

run nolock --workload counter --target exec --set "cmd=$adapter" --procs 2 --threads 2 --keys 2 \
  --ops 6 --expect lost-update
check "$tmp/nolock.json" found || fail "exec without its lock: lost update not found"

# Under ThreadSanitizer its own pthread_cond_wait interceptor runs the wait
# and never reaches the shim's (measured: the watchdog's fallback), so a
# TSan build checks the other hand-offs only.
if [ "${CONTEND_TSAN_BUILD:-0}" = 1 ]; then
  echo "cond: not checked in a ThreadSanitizer build"
else
  run cond --workload counter --target_path "$plugin" --procs 1 --threads 3 --keys 2 --ops 10
  check "$tmp/cond.json" pass cond mutex || fail "condition variables: not clean, or a fallback"
fi

run inproc --workload counter --target json-doc:flock --procs 3 --keys 1 --ops 6
check "$tmp/inproc.json" pass flock || fail "in-process flock: not clean, or a fallback"
echo ok
