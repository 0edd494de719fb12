#!/usr/bin/env bash
# hardening.sh CHECK CONTEND CORPUS TMP
# Regression checks of issue 11 that need more than an exit code: what must
# NOT be in the output, and what the file system looks like afterwards.
# Each CHECK prints why it failed and exits 1; 0 is a pass.
set -u
check=$1 contend=$2 corpus=$3 tmp=$4/hardening.$1
rm -rf "$tmp"
mkdir -p "$tmp"
fail() { echo "FAIL $check: $*"; exit 1; }
small=(--workload counter --target null --ops 10 --quiet --dir "$tmp/run")

case $check in
terminal-chars)
  # Escape sequences and bells in names and messages of a run.json must not
  # reach the terminal raw.
  out=$("$contend" report "$corpus/report/hostile-chars.json" 2>&1)
  if printf '%s' "$out" | LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]\|\xc2[\x80-\x9f]'; then
    fail "a control character reached the output: $(printf '%s' "$out" | od -c | head)"
  fi
  grep -q 'bad' <<<"$out" || fail "the case is missing from the table: $out"
  ;;
junit-chars)
  # U+FFFE, U+FFFF and control characters in a name: the JUnit file is XML.
  "$contend" report "$corpus/report/hostile-chars.json" --junit "$tmp/j.xml" >/dev/null ||
    fail "report --junit failed"
  python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$tmp/j.xml" ||
    fail "not well-formed XML"
  ;;
unwritten-json)
  # --json into a directory that does not exist: exit 4, and stdout must not
  # claim the file was written.
  out=$("$contend" run "${small[@]}" --json "$tmp/no/such/dir/r.json" 2>&1)
  rc=$?
  [ $rc = 4 ] || fail "exit $rc, want 4: $out"
  grep -q "run.json: $tmp/no/such" <<<"$out" && fail "claims the unwritten file: $out"
  grep -q "run.json: $tmp/run/run.json" <<<"$out" || fail "does not name the written one: $out"
  ;;
output-symlink)
  # A symlink is followed, not replaced; a dangling one names the file to create.
  mkdir "$tmp/real"
  echo old >"$tmp/real/r.json"
  ln -s real/r.json "$tmp/link.json"
  ln -s real/new.json "$tmp/dangling.json"
  "$contend" run "${small[@]}" --json "$tmp/link.json" >/dev/null 2>&1 || fail "run failed"
  [ -L "$tmp/link.json" ] || fail "the symlink was replaced"
  grep -q '"cases"' "$tmp/real/r.json" || fail "the link's target was not written"
  "$contend" report "$tmp/link.json" --junit "$tmp/dangling.json" >/dev/null 2>&1 ||
    fail "report through a dangling link failed"
  [ -L "$tmp/dangling.json" ] || fail "the dangling symlink was replaced"
  grep -q '<testsuites' "$tmp/real/new.json" || fail "the dangling link's target was not created"
  ls -A "$tmp/real" | grep -q contend && fail "a temp file was left: $(ls -A "$tmp/real")"
  true
  ;;
output-fifo)
  # A FIFO (like /dev/stdout or a device) is written in place, never replaced.
  mkfifo "$tmp/f.json"
  timeout 60 cat "$tmp/f.json" >"$tmp/got.json" &
  reader=$!
  timeout 60 "$contend" run "${small[@]}" --json "$tmp/f.json" >/dev/null 2>&1 || fail "run failed"
  wait $reader
  [ -p "$tmp/f.json" ] || fail "the FIFO was replaced"
  grep -q '"cases"' "$tmp/got.json" || fail "nothing came through the FIFO"
  ;;
output-devnull)
  # As root, the old rename replaced the device node /dev/null by a file.
  "$contend" run "${small[@]}" --json /dev/null >/dev/null 2>&1 || fail "run --json /dev/null failed"
  [ -c /dev/null ] || fail "/dev/null is no longer a character device"
  ;;
prune-runs)
  # Run directories of a scenario beyond CONTEND_KEEP_RUNS are pruned, newest
  # kept; one without run.json (a run still going) is never touched.
  mkdir "$tmp/contend-cli-AAAAAA"
  for i in 1 2 3 4 5; do
    TMPDIR=$tmp CONTEND_KEEP_RUNS=3 "$contend" run --workload counter --target null --ops 10 \
      --quiet >/dev/null 2>&1 || fail "run $i failed"
  done
  n=$(find "$tmp" -maxdepth 1 -name 'contend-cli-*' -newer "$tmp/contend-cli-AAAAAA" | wc -l)
  [ "$n" = 3 ] || fail "want the 3 newest runs kept, have $n: $(ls "$tmp")"
  [ -d "$tmp/contend-cli-AAAAAA" ] || fail "an unfinished run directory was removed"
  ;;
*)
  fail "unknown check"
  ;;
esac
rm -rf "$tmp"
exit 0
