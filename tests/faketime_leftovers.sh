#!/usr/bin/env bash
# faketime_leftovers.sh CONTEND SCENARIO: runs under time control that pass,
# fail (a violation), crash, and are interrupted with SIGINT must leave no
# faketime file in their run directory and no /dev/shm object of
# libfaketime behind: not the shared clock they report in run.json, and none
# that appeared during the test and belongs to a process that is gone.
#
# Other runs on the machine may use libfaketime at the same time, so the
# /dev/shm check only counts objects that appeared during this test, whose
# process (the PID in the name) is gone and that nothing maps.
set -u
contend=$1 scenario=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TMPDIR=$tmp/runs
mkdir -p "$TMPDIR"
fail=0
shm_list() { ls /dev/shm 2>/dev/null | grep -E '^(sem\.)?faketime_(sem|shm)_[0-9]+$' | sort; }
shm_list >"$tmp/before"

# run NAME EXPECTED-EXIT ARGS...: run contend, check the exit code, keep run.json.
run() {
  local name=$1 want=$2
  shift 2
  "$contend" run "$@" --json "$tmp/$name.json" >"$tmp/$name.out" 2>&1
  local got=$?
  if [ "$got" != "$want" ]; then
    echo "$name: expected exit $want, got $got"; cat "$tmp/$name.out"; fail=1
  fi
}

# The shared clocks a run reports in its events must be gone.
check_json() {
  local name=$1
  [ -f "$tmp/$name.json" ] || return 0
  for obj in $(grep -oE '/faketime_shm_[0-9]+' "$tmp/$name.json" | sort -u); do
    pid=${obj#/faketime_shm_}
    for f in "/dev/shm/faketime_shm_$pid" "/dev/shm/sem.faketime_sem_$pid"; do
      [ -e "$f" ] && { echo "$name: left $f"; fail=1; }
    done
  done
  grep -q faketime_shm_ "$tmp/$name.json" || { echo "$name: run.json names no shared clock"; fail=1; }
}

run pass 0 "$scenario" --case ttl-10m-x100 --set duration=500ms --keep
check_json pass
run violation 1 "$scenario" --case wallclock-ttl-jump --set expect=hang
check_json violation
run crash 1 --workload counter --target null --procs 2 --ops 100 --set crash_at=5 \
  --set time.speed=10
check_json crash
run jumpcrash 1 --workload counter --target null --procs 2 --ops 100 --set crash_at=5 \
  --set time.jump=-1h@1%

# Interrupted while the workers run.
"$contend" run "$scenario" --case ttl-10m-x100 --set duration=30s >"$tmp/int.out" 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  compgen -G "$TMPDIR/contend-*/ttl-10m-x100/history/w0.t1" >/dev/null && break
  sleep 0.05
done
sleep 0.5
kill -INT $pid
wait $pid
code=$?
[ "$code" = 130 ] || { echo "interrupted: expected exit 130, got $code"; cat "$tmp/int.out"; fail=1; }

# No faketime file in any run directory, kept or not.
left=$(find "$TMPDIR" -name 'faketime*')
[ -z "$left" ] || { echo "faketime files left: $left"; fail=1; }
[ -n "$(find "$TMPDIR" -name case.json)" ] || { echo "no kept case directory was checked"; fail=1; }

# No new /dev/shm object of a process that is gone.  The PID in libfaketime's
# names is that of the process that created them, which for contend is a
# helper that exits at once, so an object of another run going on right now
# (ctest runs tests in parallel) also has a dead PID: it is only a leftover
# when no process maps it and it is still there a moment later.
mapped() { grep -qs "/dev/shm/$1" /proc/[0-9]*/maps; }
sleep 0.2
shm_list >"$tmp/after"
suspects=()
for f in $(comm -13 "$tmp/before" "$tmp/after"); do
  p=${f##*_}
  kill -0 "$p" 2>/dev/null || mapped "$f" || suspects+=("$f")
done
[ ${#suspects[@]} -gt 0 ] && sleep 2
for f in "${suspects[@]}"; do
  if [ -e "/dev/shm/$f" ] && ! mapped "$f"; then
    echo "left /dev/shm/$f (its process ${f##*_} is gone and nothing maps it)"; fail=1
  fi
done
if [ $fail = 1 ]; then exit 1; fi
echo "ok: no faketime files or /dev/shm objects left after pass, violation, crash, interrupt"
