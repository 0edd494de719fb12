#!/usr/bin/env bash
# ci/fuzz.sh [SECONDS] - build the libFuzzer harnesses (clang, ASan+UBSan) and
# fuzz each for SECONDS (default 20), starting from its seed corpus in
# tests/fuzz/corpus/NAME.  New inputs go to build/fuzz/corpus/NAME, never into
# the repository; a crash leaves build/fuzz/artifacts/NAME/crash-* and exits 1
# (copy it into tests/fuzz/corpus/NAME once fixed: the regression tests
# replay that directory on every build).
#
# ci/fuzz-campaign.sh is the developers' longer campaign (all harnesses in
# parallel); the results of the last one are in tests/fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
secs=${1:-20}
jobs=${CONTEND_CI_JOBS:-$(nproc)}
dir=build/fuzz
CC=clang cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONTEND_FUZZ=ON >/dev/null
cmake --build "$dir" -j "$jobs" --target fuzz_scenario fuzz_ledger fuzz_report fuzz_compare

status=0
for f in scenario ledger report compare; do
  mkdir -p "$dir/corpus/$f" "$dir/artifacts/$f"
  printf '\n==== fuzz %s: %s s ====\n' "$f" "$secs"
  # -rss_limit_mb: a leak or a 3 GB line is a finding, not a killed machine.
  # -close_fd_mask=2: the harness's own diagnostics ("file:line: ..." for
  # every bad scenario) are silenced; libFuzzer's and the sanitizers' reports
  # still reach the log.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$dir/tests/fuzz/fuzz_$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -close_fd_mask=2 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$dir/artifacts/$f/" \
        "$dir/corpus/$f" "tests/fuzz/corpus/$f" 2>"$dir/fuzz-$f.log"; then
    echo "fuzz $f: FAILED (see $dir/fuzz-$f.log and $dir/artifacts/$f/)"
    tail -40 "$dir/fuzz-$f.log"
    status=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::new_units_added|^#[0-9]+.*DONE' "$dir/fuzz-$f.log" || true
done
exit $status
