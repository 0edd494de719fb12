# The jsonl-ledger under kills and power cuts (issue 6): its cases are the
# "jsonl-ledger" blocks at the end of scenarios/crash.ini and
# scenarios/powercut.ini, so faults.crash and faults.powercut (seed 1, every
# build) and faults.crash.seeds-1-N and faults.powercut.seeds-1-N (release
# build, label slow, N = CONTEND_FAULT_SEEDS) already run them with every other case of those files:
# those tests pass only when every case meets its expectation.  Running them
# again here would only cost CI time.
#
# What a verdict cannot show is checked here, on seed 1: that the kills
# really tore lines and the torn tails were cut (run.json's kills and
# ledger_tails_cut), that durability=none and =batch lose acknowledged
# appends as missing-append and never as lost-durable, and that no worker is
# left running.  A few seconds in any build.
add_test(NAME ledger.faults.torn-tails
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/ledger_faults.sh $<TARGET_FILE:contend>
                 ${PROJECT_SOURCE_DIR}/scenarios
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(ledger.faults.torn-tails PROPERTIES LABELS integration
                     ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP}")

