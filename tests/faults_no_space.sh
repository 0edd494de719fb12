#!/usr/bin/env bash
# faults_no_space.sh CONTEND - a power-cut case on a disk that fills up.
#
# The run directory is on a 3 MiB tmpfs, in a private mount namespace
# (unshare -rm: no root needed where user namespaces are allowed; skipped,
# exit 77, where they are not).  The ledger's appends fill it; the undo log,
# sparse until then, can get no blocks for its next entries.  That must end
# the case as a harness error that says so (exit 4), never as a SIGBUS in a
# worker (reported as the target's crash) or in the runner (exit 135), and
# never as a verdict: unlogged changes cannot be undone.
set -u
contend=$1
if ! unshare -rm true 2>/dev/null; then
  echo "skipped: no user and mount namespaces here (unshare -rm)"
  exit 77
fi
exec unshare -rm bash -c '
  d=$(mktemp -d) || exit 1
  mount -t tmpfs -o size=3m tmpfs "$d" 2>/dev/null || { echo "skipped: cannot mount tmpfs"; exit 77; }
  out=$(TMPDIR=$d "$1" run --workload ledger --target jsonl-ledger --procs 2 --ops 6000 \
          --powercut 500 --seed 1 --quiet 2>&1)
  rc=$?
  echo "$out" | tail -5
  [ $rc = 4 ] || { echo "FAIL: exit $rc, expected 4"; exit 1; }
  echo "$out" | grep -q "no space left on the device for the undo log" ||
    { echo "FAIL: no message about the undo log"; exit 1; }
  echo ok
' bash "$contend"
