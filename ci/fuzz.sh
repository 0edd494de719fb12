#!/usr/bin/env bash
# ci/fuzz.sh [SECONDS] - build the libFuzzer harnesses (clang, ASan+UBSan) and
# fuzz each for SECONDS (default 20), starting from its seed corpus in
# tests/fuzz/corpus/NAME.  New inputs go to build/fuzz/corpus/NAME, never into
# the repository; a crash leaves build/fuzz/artifacts/NAME/crash-* and exits 1
# (copy it into tests/fuzz/corpus/NAME once fixed: the regression tests
# replay that directory on every build).
#
# ci/fuzz.sh --ci - what CI runs: each harness from the repository's corpus
# only, with libFuzzer's seed 1, for a fixed number of inputs (CI_RUNS below,
# about 10 s each on a 2-core machine).  A timed run explores a different set
# of inputs on every machine and every load, so a CI gate built on it turns
# red at random (it did: a crash found in second 14 on one machine and never
# on another).  A fixed seed and count make the step a function of the code:
# red here is red on every machine, with the input in build/fuzz/artifacts.
# (Measured: two runs in a row explore identical inputs for ledger, report
# and compare; scenario's coverage differed by under 1 %, some path of the
# loader not yet pinned down.)  Exploration is ci/fuzz-campaign.sh's job.
#
# ci/fuzz-campaign.sh is the developers' longer campaign (all harnesses in
# parallel); the results of the last one are in tests/fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
ci=0
secs=${1:-20}
if [ "${1:-}" = --ci ]; then ci=1; fi
# The harnesses and their inputs in --ci mode: tests/fuzz/harnesses.txt.
declare -A CI_RUNS=()
harnesses=()
while read -r name runs _; do
  case $name in '' | '#'*) continue ;; esac
  harnesses+=("$name")
  CI_RUNS[$name]=$runs
done <tests/fuzz/harnesses.txt
jobs=${CONTEND_CI_JOBS:-$(nproc)}
dir=build/fuzz
CC=clang cmake -S "$root" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONTEND_FUZZ=ON >/dev/null
cmake --build "$dir" -j "$jobs" --target "${harnesses[@]/#/fuzz_}"

status=0
for f in "${harnesses[@]}"; do
  if [ $ci = 1 ]; then
    # A scratch corpus, emptied first: inputs left by earlier runs on this
    # machine would change what the fixed seed explores.
    rm -rf "$dir/ci-corpus/$f" "$dir/artifacts/$f"
    mkdir -p "$dir/ci-corpus/$f" "$dir/artifacts/$f"
    corpus="$dir/ci-corpus/$f"
    budget=(-seed=1 -runs="${CI_RUNS[$f]}")
    printf '\n==== fuzz %s: %s inputs, seed 1 ====\n' "$f" "${CI_RUNS[$f]}"
  else
    mkdir -p "$dir/corpus/$f" "$dir/artifacts/$f"
    corpus="$dir/corpus/$f"
    budget=(-max_total_time="$secs")
    printf '\n==== fuzz %s: %s s ====\n' "$f" "$secs"
  fi
  # -rss_limit_mb: a leak or a 3 GB line is a finding, not a killed machine.
  # -close_fd_mask=2: the harness's own diagnostics ("file:line: ..." for
  # every bad scenario) are silenced; libFuzzer's and the sanitizers' reports
  # still reach the log.  -timeout is generous: one input that takes 10 s is a
  # hang worth a look, but a loaded machine must not make one.
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$dir/tests/fuzz/fuzz_$f" "${budget[@]}" -timeout=30 -rss_limit_mb=2048 -close_fd_mask=2 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$dir/artifacts/$f/" \
        "$corpus" "tests/fuzz/corpus/$f" 2>"$dir/fuzz-$f.log"; then
    echo "fuzz $f: FAILED (see $dir/fuzz-$f.log and $dir/artifacts/$f/)"
    tail -40 "$dir/fuzz-$f.log"
    status=1
  fi
  grep -E '^stat::number_of_executed_units|^stat::new_units_added|^#[0-9]+.*DONE' "$dir/fuzz-$f.log" || true
done
exit $status
