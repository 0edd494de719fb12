#!/usr/bin/env bash
# ci/fuzz-campaign.sh [SECONDS] - the developers' fuzz campaign: every
# harness at once (nice 19), each for SECONDS of wall time (default 1800, the
# issue's 30 CPU-minutes per harness on an idle machine with a core each),
# on the sanitizer build of ci/fuzz.sh.  Prints per harness: executions, the
# CPU seconds it got, corpus size, and crashes (artifacts in
# build/fuzz/artifacts/NAME).  Exit 1 when any harness crashed, leaked, hung
# or broke an oracle.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-1800}
dir=build/fuzz
bash ci/fuzz.sh 1 >/dev/null || { echo "campaign: ci/fuzz.sh failed" >&2; exit 1; }
pids=()
for f in scenario ledger report compare exec_reply; do
  mkdir -p "$dir/corpus/$f" "$dir/artifacts/$f"
  (
    TIMEFORMAT="%U %S"
    { time ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        nice -n 19 "$dir/tests/fuzz/fuzz_$f" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -close_fd_mask=2 -max_len=65536 -print_final_stats=1 \
        -artifact_prefix="$dir/artifacts/$f/" "$dir/corpus/$f" "tests/fuzz/corpus/$f" \
        >"$dir/campaign-$f.log" 2>&1; echo "exit $?" >>"$dir/campaign-$f.log"; } 2>"$dir/campaign-$f.cpu"
  ) &
  pids+=($!)
done
wait "${pids[@]}"
status=0
printf '%-10s %12s %8s %8s %8s %s\n' harness execs cpu_s corpus crashes result
for f in scenario ledger report compare exec_reply; do
  log=$dir/campaign-$f.log
  execs=$(sed -n "s/^stat::number_of_executed_units: *//p" "$log" | head -1)
  cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$dir/campaign-$f.cpu")
  corp=$(ls "$dir/corpus/$f" | wc -l)
  crashes=$(ls "$dir/artifacts/$f" | wc -l)
  rc=$(sed -n 's/^exit //p' "$log")
  result=ok
  if [ "$rc" != 0 ] || [ "$crashes" != 0 ]; then result="FAILED (see $log)"; status=1; fi
  printf '%-10s %12s %8s %8s %8s %s\n' "$f" "${execs:-?}" "$cpu" "$corp" "$crashes" "$result"
done
exit $status
