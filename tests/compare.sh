#!/usr/bin/env bash
# compare.sh CONTEND DIR MODE - the acceptance tests of `contend compare`.
#
#   same  two sides of the same build (compare-base.ini twice): every case
#         must be `no change`, exit 0
#   slow  the base build against one with a 30 % slowdown of one case
#         (compare-slow.ini): `slower` for `slowed` only, exit 3
#
# Each side is measured in 9 rounds of one repetition each, the sides
# alternating (ABBA...), and `contend compare` pools each side's 9 files.
# The load of a shared machine drifts over seconds: measure all of A and
# then all of B, and a drift between them looks like a change of the build;
# interleaved, it hits both sides alike.  The workloads are chosen to be
# quiet too (see compare-base.ini), and ctest gives these tests the machine
# to themselves (RUN_SERIAL).
#
# A false alarm fails at once: the same build called slower or faster, the
# unchanged case called slower, the slowed case called anything but slower
# or noisy.  `noisy — re-run` is compare saying the machine is too noisy for
# a verdict at this threshold, which is true when other work saturates the
# CPUs; the test does what it says, up to 3 times, and then reports itself
# skipped (exit 77) with the load average, rather than passing.  Before each
# attempt it waits up to a minute for the CPUs to be free - tasks waiting
# for a CPU less than 20 % of the last 10 s (/proc/pressure/cpu), or where
# that is missing a load average under 1.5 per CPU - and skips if they do
# not come free: nothing measured on an oversubscribed machine resolves 5 %.
# CONTEND_COMPARE_ANYWAY=1 measures regardless, to see what compare makes of
# an overloaded machine.
set -u
contend=$1 dir=$2 mode=$3
here=$(cd "$(dirname "$0")" && pwd)
attempts=3

case $mode in
same) sides="a:compare-base b:compare-base"; expect=("steady=no change" "slowed=no change") ;;
slow) sides="a:compare-base s:compare-slow"; expect=("steady=no change" "slowed=slower") ;;
*) echo "usage: compare.sh CONTEND DIR same|slow" >&2; exit 2 ;;
esac
want_code=0
[ "$mode" = slow ] && want_code=3
dir=$dir/$mode
mkdir -p "$dir"

fail() { echo "FAIL: $*"; exit 1; }

# measure: 9 rounds, the two sides alternating, into $dir/SIDE-ROUND.json
measure() {
  rm -f "$dir"/*.json
  local round side first second
  for round in 1 2 3 4 5 6 7 8 9; do
    first=${sides%% *} second=${sides#* }
    # ABBA: swap the order every other round, so neither side always goes first.
    [ $((round % 2)) = 0 ] && { side=$first; first=$second; second=$side; }
    for side in $first $second; do
      "$contend" run "$here/scenarios/${side#*:}.ini" --repeat 1 --seed "$round" --quiet \
        --json "$dir/${side%%:*}-$round.json" >"$dir/run.txt" 2>&1 ||
        { cat "$dir/run.txt"; fail "contend run ${side#*:}.ini exited $?"; }
    done
  done
}

files() {
  local f="" r
  for r in 1 2 3 4 5 6 7 8 9; do f=$f${f:+,}$dir/$1-$r.json; done
  echo "$f"
}

# judge: 0 as expected, 1 a wrong verdict (a false alarm), 2 noisy
judge() {
  python3 - "$dir/cmp.json" "${expect[@]}" <<'PY'
import json, sys
cmp = json.load(open(sys.argv[1]))
want = dict(s.split("=", 1) for s in sys.argv[2:])
got = {c["name"]: c["verdict"] for c in cmp["cases"]}
for c in cmp["cases"]:
    for f in c.get("figures", []):
        print(f"  {c['name']:7} {f['label']:4} {f['change_pct']:+7.2f} %  "
              f"p={f['p_value']:.4f}  {f['verdict']}")
wrong = [n for n in want if got.get(n) != want[n] and got.get(n) != "noisy — re-run"]
noisy = [n for n in want if got.get(n) == "noisy — re-run"]
for n in wrong:
    print(f"{n}: {got.get(n)!r}, expected {want[n]!r}")
sys.exit(1 if wrong else 2 if noisy else 0)
PY
}

# busy: are tasks waiting for the CPUs?  PSI reacts within seconds; the load
# average lags by a minute (and still counts the tests that ran before us).
busy() {
  if [ -r /proc/pressure/cpu ]; then
    awk -F'[ =]' '/^some/ { exit !($3 > 20) }' /proc/pressure/cpu
  else
    awk -v cpus="$(nproc)" '{ exit !($1 > 1.5 * cpus) }' /proc/loadavg
  fi
}

# overloaded: still busy after waiting up to a minute for it to pass.
overloaded() {
  local i
  for i in $(seq 1 12); do
    busy || return 1
    sleep 5
  done
  return 0
}

pressure() {
  if [ -r /proc/pressure/cpu ]; then head -1 /proc/pressure/cpu; fi
  echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

for attempt in $(seq 1 $attempts); do
  if overloaded && [ -z "${CONTEND_COMPARE_ANYWAY:-}" ]; then
    echo "SKIPPED: the machine is overloaded ($(pressure | tr '\n' ' ')on $(nproc) CPUs);" \
         "a 5 % difference cannot be measured now"
    exit 77
  fi
  measure
  a=${sides%% *} b=${sides#* }
  "$contend" compare "$(files "${a%%:*}")" "$(files "${b%%:*}")" --json "$dir/cmp.json" \
    --markdown "$dir/cmp.md" --quiet
  code=$?
  echo "attempt $attempt: compare exited $code"
  judge
  verdict=$?
  [ $verdict = 1 ] && fail "a false alarm (attempt $attempt)"
  if [ $verdict = 0 ]; then
    [ "$code" = "$want_code" ] || fail "compare exited $code, expected $want_code"
    if [ "$mode" = slow ]; then
      grep -q '\*\*slower\*\*' "$dir/cmp.md" || fail "the Markdown does not show slower"
    fi
    echo "ok: ${expect[*]}, exit $code"
    exit 0
  fi
  [ "$code" = 0 ] || [ "$mode" = slow ] || fail "noisy, yet compare exited $code"
  echo "attempt $attempt: noisy — re-run ($(pressure | tr '\n' ' '))"
done
echo "SKIPPED: the machine was too loaded to measure a 5 % difference in $attempts attempts"
exit 77
