#!/usr/bin/env bash
# ci/demo.sh - install dependencies, build, and run the default suite
# (scenarios/demo.ini): a found lost update, its fix, threads, and the
# harness's own overhead.  Prints the result table and where run.json went,
# and ends with the path of the suite's HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/deps.sh
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/demo -j "$(nproc)" >/dev/null
echo
# The run renders the HTML report from its run.json; the path comes last.
report=$PWD/build/demo/demo-report.html
set +e
build/demo/contend run scenarios/demo.ini --html "$report" "$@"
code=$?
set -e
echo
echo "HTML report: $report"
exit $code
