#!/usr/bin/env bash
# ci/fuzz-campaign.sh [--cpu] [SECONDS [HARNESS...]] - the developers' fuzz
# campaign on the sanitizer build of ci/fuzz.sh (clang, ASan+UBSan); every
# harness of tests/fuzz/harnesses.txt, or the ones named.
#
#   ci/fuzz-campaign.sh 1800        every harness at once, nice 19, each for
#                                   1800 s of wall time
#   ci/fuzz-campaign.sh --cpu 1800  each harness until it has used 1800 s of
#                                   CPU (the issue's "30 CPU-minutes"),
#                                   CONTEND_FUZZ_JOBS at a time (default: the
#                                   number of CPUs), nice CONTEND_FUZZ_NICE
#                                   (default 19)
#
# Why a CPU budget: on a shared machine wall time says little about how much
# fuzzing a harness got (the first campaigns here got 9 CPU-minutes out of
# 15 wall-minutes, and ledger 1.5).  With --cpu each harness runs until it
# has had its share, however busy the machine is; at nice 0 the campaign is
# itself a CPU hog for ci/stress-test.sh (CONTEND_STRESS_HOG).
#
# Prints per harness: executions, the CPU seconds it got, corpus size, and
# crashes (artifacts in build/fuzz/artifacts/NAME).  Exit 1 when any harness
# crashed, leaked, hung or broke an oracle.
set -uo pipefail
cd "$(dirname "$0")/.."
cpu_mode=0
if [ "${1:-}" = --cpu ]; then cpu_mode=1; shift; fi
secs=${1:-1800}
case $secs in '' | *[!0-9]* | 0) echo "usage: ci/fuzz-campaign.sh [--cpu] [SECONDS>0 [HARNESS...]]" >&2; exit 2 ;; esac
shift || true
jobs=${CONTEND_FUZZ_JOBS:-$(nproc)}
niceness=${CONTEND_FUZZ_NICE:-19}
dir=build/fuzz
harnesses=($(sed -n 's/^\([a-z_][a-z_]*\).*/\1/p' tests/fuzz/harnesses.txt))
if [ $# -gt 0 ]; then
  for f in "$@"; do
    case " ${harnesses[*]} " in *" $f "*) ;; *) echo "campaign: no harness '$f' (${harnesses[*]})" >&2; exit 2 ;; esac
  done
  harnesses=("$@")
fi
bash ci/fuzz.sh 1 >/dev/null || { echo "campaign: ci/fuzz.sh failed" >&2; exit 1; }

# fuzz_one NAME: one harness, its log in $dir/campaign-NAME.log and its CPU
# seconds in $dir/campaign-NAME.cpu.  Under --cpu, libFuzzer runs without a
# time limit and is stopped with SIGINT once /proc says it has used its
# budget; libFuzzer answers SIGINT by printing its final statistics and
# exiting 72, which is the normal end of a budgeted run.
#
# libFuzzer's -timeout is wall time, so a campaign at nice 19 on a busy
# machine can be starved past it: a "timeout" artifact that replays alone
# well within the limit is the machine's, not the code's.  It is moved to
# artifacts/NAME/starved/, said in the log, and the harness goes on from its
# corpus with the rest of its budget; one that still times out alone stays a
# finding.
fuzz_one() {
  local f=$1 limit=(-max_total_time="$secs") pid tick cpu=0 spent=0 rc log=$dir/campaign-$f.log
  [ $cpu_mode = 1 ] && limit=(-max_total_time=0)
  mkdir -p "$dir/corpus/$f" "$dir/artifacts/$f"
  tick=$(getconf CLK_TCK)
  : >"$log"
  while :; do
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      nice -n "$niceness" "$dir/tests/fuzz/fuzz_$f" "${limit[@]}" -timeout=10 \
      -rss_limit_mb=2048 -close_fd_mask=2 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/$f/" "$dir/corpus/$f" "tests/fuzz/corpus/$f" \
      >>"$log" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
      # Fields 14 and 15 of /proc/PID/stat: user and system time in ticks
      # (the command name in field 2 has no spaces here).
      local stat
      if read -r -a stat <"/proc/$pid/stat" 2>/dev/null; then
        cpu=$((spent + (stat[13] + stat[14]) / tick))
        if [ $cpu_mode = 1 ] && [ "$cpu" -ge "$secs" ]; then kill -INT "$pid" 2>/dev/null; fi
      fi
      sleep 2
    done
    wait "$pid"
    rc=$?
    spent=$cpu
    [ $cpu_mode = 1 ] && [ $rc = 72 ] && rc=0
    # A timeout (exit 70) that does not reproduce alone: starved, go on.
    local t
    t=$(ls -t "$dir/artifacts/$f"/timeout-* 2>/dev/null | head -1)
    if [ $rc = 70 ] && [ -n "$t" ] && [ $cpu_mode = 1 ] && [ "$cpu" -lt "$secs" ] &&
      timeout 10 "$dir/tests/fuzz/fuzz_$f" "$t" >/dev/null 2>&1; then
      mkdir -p "$dir/artifacts/$f/starved"
      mv "$t" "$dir/artifacts/$f/starved/"
      echo "campaign: $t replays alone within 10 s: the machine starved the fuzzer; going on" >>"$log"
      continue
    fi
    break
  done
  echo "exit $rc" >>"$log"
  echo "$cpu" >"$dir/campaign-$f.cpu"
}

for f in "${harnesses[@]}"; do
  if [ $cpu_mode = 1 ]; then
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  fi
  fuzz_one "$f" &
done
wait

status=0
printf '%-10s %12s %8s %8s %8s %s\n' harness execs cpu_s corpus crashes result
for f in "${harnesses[@]}"; do
  log=$dir/campaign-$f.log
  execs=$(awk '/^stat::number_of_executed_units:/ { n += $2 } END { if (NR) print n }' "$log")
  cpu=$(cat "$dir/campaign-$f.cpu")
  corp=$(ls "$dir/corpus/$f" | wc -l)
  # slow-unit-* is libFuzzer's note of an input that took long on the wall
  # clock (a stopped or starved process makes them): listed, not a failure.
  crashes=$(find "$dir/artifacts/$f" -maxdepth 1 -type f ! -name 'slow-unit-*' | wc -l)
  rc=$(sed -n 's/^exit //p' "$log")
  result=ok
  if [ "$rc" != 0 ] || [ "$crashes" != 0 ]; then result="FAILED (see $log)"; status=1; fi
  printf '%-10s %12s %8s %8s %8s %s\n' "$f" "${execs:-?}" "$cpu" "$corp" "$crashes" "$result"
done
exit $status
