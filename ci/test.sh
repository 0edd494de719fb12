#!/usr/bin/env bash
# ci/test.sh - install dependencies, build with warnings as errors, run every
# test; again under ASan+UBSan; fuzz each harness for 20 s; under TSan; then
# a coverage build whose line coverage of harness/, lib/, targets/ and
# reports/ must reach 80 %.
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

step "build (RelWithDebInfo, -Werror)"
build build/ci-release -DCMAKE_BUILD_TYPE=RelWithDebInfo
step "tests"
run_tests build/ci-release

step "ASan + UBSan"
build build/ci-asan -DCMAKE_BUILD_TYPE=Debug -DCONTEND_ASAN=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_tests build/ci-asan

# The regression corpora of the fuzz harnesses ran above with every test
# (fuzz.regress.*); here each harness fuzzes for a bounded time (4 x 20 s).
step "fuzz (20 s per harness)"
bash ci/fuzz.sh 20

step "TSan"
build build/ci-tsan -DCMAKE_BUILD_TYPE=Debug -DCONTEND_TSAN=ON
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 run_tests build/ci-tsan

step "coverage"
rm -rf build/ci-cov
build build/ci-cov -DCMAKE_BUILD_TYPE=Debug -DCONTEND_COVERAGE=ON
run_tests build/ci-cov
lcov --quiet --capture --directory build/ci-cov --output-file build/ci-cov/all.info \
  --rc lcov_branch_coverage=0 2>/dev/null
lcov --quiet --extract build/ci-cov/all.info "$root/harness/*" "$root/lib/*" "$root/targets/*" "$root/reports/*" \
  --output-file build/ci-cov/contend.info
lcov --summary build/ci-cov/contend.info 2>&1 | tee build/ci-cov/summary.txt
pct=$(sed -n 's/.*lines\.*: \([0-9.]*\)%.*/\1/p' build/ci-cov/summary.txt)
if [ -z "$pct" ] || awk -v p="$pct" -v m="$min_coverage" 'BEGIN { exit !(p < m) }'; then
  echo "coverage: line coverage ${pct:-unknown}% is below ${min_coverage}%" >&2
  exit 1
fi
echo "coverage: ${pct}% of lines (minimum ${min_coverage}%)"
step "all tests passed"
