# Hardening (issue 11): inputs found by fuzzing and the ways they crashed or
# passed silently, output paths, full disks.  The inputs are in
# tests/corpus/; every test here failed before its fix.

set(CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/corpus)
set(HARDEN ${CMAKE_CURRENT_SOURCE_DIR}/hardening.sh)

# Scenario limits and text: exit 2 with file:line, never truncation, never a
# case that vanishes from run.json.
foreach(bad utf8-section:9 utf8-description:11 long-section:9 long-line:11 control-name:9
            c1-description:10)
  string(REPLACE ":" ";" parts ${bad})
  list(GET parts 0 name)
  list(GET parts 1 line)
  contend_scenario_test(hardening.scenario.${name} 2 REGEX "${name}.ini:${line}: "
                        ARGS run ${CORPUS}/scenario/${name}.ini --quiet)
endforeach()
# The same rules for names and values given on the command line.
string(ASCII 27 ESC)
contend_scenario_test(hardening.set-control 2 REGEX "not valid UTF-8 or holds a control"
                      ARGS run --workload counter --target null --ops 10
                           --set "description=a${ESC}[31m" --quiet)

# Option values: typed and range-checked when the scenario is read.
contend_scenario_test(hardening.option-type 2
                      REGEX "option-type.ini:6: crash_at = x: expected a whole number from 0"
                      ARGS run ${CORPUS}/scenario/option-type.ini --quiet)
contend_scenario_test(hardening.option-range 2
                      REGEX "option-range.ini:6: read_pct = 500: expected a whole number from 0 to 100"
                      ARGS run ${CORPUS}/scenario/option-range.ini --quiet)
contend_scenario_test(hardening.option-negative 2 REGEX "delay_ns=-1: expected a whole number from 0 to"
                      ARGS run --workload counter --target null --set delay_ns=-1 --quiet)

# A fault case that drew no fault event: qsort(NULL, 0) in faults_finish,
# which the UBSan build turned into exit 1.
contend_scenario_test(hardening.faults-no-event 0 REGEX "pass"
                      ARGS run --workload counter --target json-doc --ops 10
                           --set kill=1000000 --quiet)

# A sweep.json with values that are not strings: strcmp(NULL) in x_index.
contend_scenario_test(hardening.sweep-nonstring 0
                      ARGS report ${CORPUS}/report/sweep-nonstring.json
                           --html ${CONTEND_TEST_TMP}/sweep-nonstring.html)

foreach(check terminal-chars junit-chars unwritten-json output-symlink output-fifo output-devnull
              prune-runs)
  add_test(NAME hardening.${check}
           COMMAND ${HARDEN} ${check} $<TARGET_FILE:contend> ${CORPUS} ${CONTEND_TEST_TMP})
  set_tests_properties(hardening.${check} PROPERTIES LABELS integration
                       ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP}")
endforeach()

# No room for the history: exit 4 with the message before any worker starts,
# never a SIGBUS.  A file size limit stands in for a full disk (it needs no
# root and no tmpfs): the history's blocks are reserved up front, and the
# reservation fails with EFBIG where a full disk gives ENOSPC.
add_test(NAME hardening.history-no-space
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh 4
                 "no space left for the history in .*/history: need [0-9]+ MiB"
                 bash -c "ulimit -f 1024 && exec \"$0\" \"$@\"" $<TARGET_FILE:contend>
                 run --workload counter --target null --procs 2 --ops 100000 --quiet)
set_tests_properties(hardening.history-no-space PROPERTIES LABELS integration
                     ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP}")
