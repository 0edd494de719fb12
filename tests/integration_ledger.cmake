# Integration runs of the ledger: the scenarios' stories on seeds 1..20, the
# growth gate, and `contend verify` on ledgers written by Python and by runs.
#
# Seeds: the release build runs every expect case and the correct cases of
# scenarios/audit-ledger.ini on seeds 1..20.  The sanitizer and coverage
# builds exist to run the code, not to repeat it, and are several times
# slower: they run 2 seeds.  The growth cases are judged on each append's
# work (bytes read and written, syscalls, CPU time in the worker thread),
# which neither the machine's load nor an instrumented build changes: the
# scenario's 1,000 appends serve every build (readlines: bytes ~ N^1.0,
# tail scan ~ N^0.0, on every seed, beside a CPU and I/O hog too).

set(LS ${PROJECT_SOURCE_DIR}/scenarios/audit-ledger.ini)
if(CONTEND_ASAN OR CONTEND_TSAN OR CONTEND_COVERAGE)
  set(LEDGER_SEEDS 2)
  set(LEDGER_FULL OFF)
else()
  set(LEDGER_SEEDS 20)
  set(LEDGER_FULL ON)
endif()

# The stories, every seed.
foreach(spec nolock:found.chain-fork nolock-split:found.invalid-line flock-tailscan:pass
             batched:pass tailscan-growth:pass)
  string(REPLACE ":" ";" parts ${spec})
  list(GET parts 0 case)
  list(GET parts 1 verdict)
  string(REPLACE "." " " verdict ${verdict})
  contend_scenario_test(ledger.audit.${case}.seeds 0
                        REGEX "${case} .*${verdict} \\(all ${LEDGER_SEEDS} runs\\)"
                        ARGS run ${LS} --case ${case} --repeat ${LEDGER_SEEDS} --quiet)
endforeach()
contend_scenario_test(ledger.audit.readlines-growth.seeds 0
                      REGEX "readlines-growth .*found superlinear-growth \\(all ${LEDGER_SEEDS} runs\\)"
                      ARGS run ${LS} --case readlines-growth --repeat ${LEDGER_SEEDS} --quiet)
if(LEDGER_FULL)
  contend_scenario_test(ledger.audit.full 0 REGEX "readlines-growth .*found superlinear-growth"
                        ARGS run ${LS} --quiet)
  contend_scenario_test(ledger.throughput 0 REGEX "batched .*pass"
                        ARGS run ${PROJECT_SOURCE_DIR}/scenarios/ledger-throughput.ini --quiet)
endif()

# The growth gate on its own: a performance gate (exit 3), named.  It is
# decided by bytes per append, which load does not change.
contend_scenario_test(ledger.growth-gate 3
                      REGEX "gate failed: max_growth: per-op cost grows as size.*by bytes"
                      ARGS run --workload ledger --target jsonl-ledger:readlines --ops 1000
                           --durability none --payload 16 --max_growth 0.2 --quiet)
contend_scenario_test(ledger.growth-gate.bad-value 2 REGEX "max_growth=abc: expected a non-negative"
                      ARGS run --workload ledger --target jsonl-ledger --max_growth abc)
# The other durability settings and a batch of one.
contend_scenario_test(ledger.durability-batch 0 REGEX "jsonl-ledger:flock-tailscan .*pass"
                      ARGS run --workload ledger --target jsonl-ledger --procs 2 --ops 100
                           --durability batch --batch 10 --quiet)
contend_scenario_test(ledger.batched-none 0 REGEX "jsonl-ledger:batched .*pass"
                      ARGS run --workload ledger --target jsonl-ledger:batched --procs 2
                           --threads 4 --ops 100 --durability none --batch 1 --payload 200 --quiet)
contend_scenario_test(ledger.bad-durability 2 REGEX "expected one of each\\|batch\\|none"
                      ARGS run --workload ledger --target jsonl-ledger --durability always)
contend_scenario_test(ledger.list 0 REGEX "readlines .*broken: superlinear-growth"
                      ARGS list)

# contend verify.
add_test(NAME ledger.verify COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/ledger_verify.sh
                                    $<TARGET_FILE:contend>)
set_tests_properties(ledger.verify PROPERTIES LABELS integration
                     ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP}")
add_test(NAME ledger.verify.long-lines COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/ledger_longline.sh
                                    $<TARGET_FILE:contend> ${CONTEND_TEST_TMP}/longline)
set_tests_properties(ledger.verify.long-lines PROPERTIES LABELS integration)
# The canonical JSON that verify hashes, against Python's own json.dumps on
# records written every way JSON can be written (seeded, 1500 records).
add_test(NAME ledger.verify.python-differential
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/ledger_canon_diff.py $<TARGET_FILE:contend>
                 ${CONTEND_TEST_TMP}/canon-diff 1500 14)
set_tests_properties(ledger.verify.python-differential PROPERTIES LABELS integration)
contend_scenario_test(ledger.verify.bad-max-line 2 REGEX "--max-line needs a size"
                      ARGS verify ledger x.jsonl --max-line 0)
contend_scenario_test(ledger.verify.missing-file 2 REGEX "cannot read /nonexistent/x.jsonl"
                      ARGS verify ledger /nonexistent/x.jsonl)
contend_scenario_test(ledger.verify.no-file 2 REGEX "usage: contend verify"
                      ARGS verify ledger)
contend_scenario_test(ledger.verify.unknown-kind 2 REGEX "only: ledger"
                      ARGS verify journal x)
contend_scenario_test(ledger.verify.bad-flag 2 REGEX "unknown option --frobnicate"
                      ARGS verify ledger x --frobnicate)
contend_scenario_test(ledger.verify.bad-jobs 2 REGEX "--jobs needs"
                      ARGS verify ledger x --jobs 0)
contend_scenario_test(ledger.verify.same-fields 2 REGEX "must differ"
                      ARGS verify ledger x --hash-field h --prev-field h)
contend_scenario_test(ledger.verify.help 0 REGEX "--no-recompute" ARGS verify --help)

# The raw write+fsync yardstick (tests/bench/ledger_bench.sh uses it); built
# and run here so that it keeps working.  No figure is asserted.
add_executable(fsync_rate bench/fsync_rate.c)
add_test(NAME ledger.bench.fsync-rate COMMAND fsync_rate ${CONTEND_TEST_TMP} 20)
set_tests_properties(ledger.bench.fsync-rate PROPERTIES LABELS integration
                     PASS_REGULAR_EXPRESSION "write\\+fsync: 20 appends")
