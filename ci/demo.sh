#!/usr/bin/env bash
# ci/demo.sh - install dependencies, build, and run the default suite
# (scenarios/demo.ini): a found lost update, its fix, threads, and the
# harness's own overhead.  Prints the result table and where run.json went.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/deps.sh
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/demo -j "$(nproc)" >/dev/null
echo
exec build/demo/contend run scenarios/demo.ini "$@"
