#!/usr/bin/env bash
# ci/test.sh - install dependencies, check the format of every C file
# (ci/format-check.sh --all: .clang-format, clang-format 14), then four passes:
#   1. release build (RelWithDebInfo, -Werror), every test;
#   2. one instrumented build with ASan+UBSan *and* gcov, every test, whose
#      line coverage of harness/, lib/, targets/ and reports/ must reach 80 %
#      (one pass instead of two: the instruments do not disturb each other,
#      and the suite is the costly part);
#   3. the libFuzzer harnesses, each for a fixed number of inputs from a fixed
#      seed (ci/fuzz.sh): the same inputs on every machine, so a red fuzz step
#      is a reproducible finding, never the luck of a timed run;
#   4. TSan, every test but the fault matrix (label `faults`: kills, pauses and
#      power cuts act on processes, which ThreadSanitizer does not see; the
#      same scenarios run without faults in this pass, and with faults in 1-2).
#
# Build trees go to build/ci-*; set CONTEND_CI_JOBS to change parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${CONTEND_CI_JOBS:-$(nproc)}
min_coverage=80

bash ci/deps.sh

step() { printf '\n==== %s ====\n' "$*"; }

build() { # build DIR CMAKE-ARGS...
  local dir=$1; shift
  cmake -S "$root" -B "$dir" -DCONTEND_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

run_tests() { # run_tests DIR [CTEST-ARGS...]
  local dir=$1; shift
  (cd "$dir" && ctest --output-on-failure -j "$jobs" "$@")
}

step "format (.clang-format, every tracked C file)"
bash ci/format-check.sh --all

step "build (RelWithDebInfo, -Werror)"
build build/ci-release -DCMAKE_BUILD_TYPE=RelWithDebInfo
step "tests"
run_tests build/ci-release

step "ASan + UBSan + coverage"
rm -rf build/ci-asan
build build/ci-asan -DCMAKE_BUILD_TYPE=Debug -DCONTEND_ASAN=ON -DCONTEND_COVERAGE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_tests build/ci-asan
lcov --quiet --capture --directory build/ci-asan --output-file build/ci-asan/all.info \
  --rc lcov_branch_coverage=0 2>/dev/null
lcov --quiet --extract build/ci-asan/all.info "$root/harness/*" "$root/lib/*" "$root/targets/*" "$root/reports/*" \
  --output-file build/ci-asan/contend.info
lcov --summary build/ci-asan/contend.info 2>&1 | tee build/ci-asan/summary.txt
pct=$(sed -n 's/.*lines\.*: \([0-9.]*\)%.*/\1/p' build/ci-asan/summary.txt)
if [ -z "$pct" ] || awk -v p="$pct" -v m="$min_coverage" 'BEGIN { exit !(p < m) }'; then
  echo "coverage: line coverage ${pct:-unknown}% is below ${min_coverage}%" >&2
  exit 1
fi
echo "coverage: ${pct}% of lines (minimum ${min_coverage}%)"

# The regression corpora of the fuzz harnesses ran above with every test
# (fuzz.regress.*); here each harness explores a fixed number of new inputs.
step "fuzz (fixed seed and input count per harness)"
bash ci/fuzz.sh --ci

step "TSan"
build build/ci-tsan -DCMAKE_BUILD_TYPE=Debug -DCONTEND_TSAN=ON
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_tests build/ci-tsan -LE faults

step "all tests passed"
