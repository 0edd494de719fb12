# Integration runs of the sqlite target, the bank and claim workloads, and the
# bare-loop benchmark (included from tests/CMakeLists.txt).
#
# shared-conn-nomutex with threads is undefined behaviour by design: threads
# run inside SQLite on one connection at once and the worker may die of it.
# Under a sanitizer that is not a signal the runner can report as a crash but
# the sanitizer's own report and exit, so sanitizer builds (CONTEND_ASAN,
# CONTEND_TSAN) run those scenarios case by case and leave out the cells that
# share a NOMUTEX connection between threads.  To keep CI short they also run
# only the mixed 2x4 column of the matrix (processes and threads at once) and
# its option cells; the release and coverage builds run the whole matrix.

set(S ${PROJECT_SOURCE_DIR}/scenarios)

# The yardstick for contend's overhead: tests/bench/sqlite_bare.sh runs it.
add_executable(sqlite_bare ${CMAKE_CURRENT_SOURCE_DIR}/bench/sqlite_bare.c)
target_link_libraries(sqlite_bare PRIVATE PkgConfig::SQLITE3)

set(CONTEND_SQLITE_UB_CASES "shared-conn-nomutex\\.(1x8|2x4)$|^shared-nomutex$")

# One test per case of FILE that matches ONLY and not SKIP (regexes).
function(contend_scenario_cases prefix file only skip)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file})
  file(STRINGS ${file} sections REGEX "^\\[[^]]+\\]")
  foreach(line ${sections})
    string(REGEX REPLACE "^\\[([^]]+)\\].*" "\\1" name "${line}")
    if(name STREQUAL "global" OR NOT name MATCHES "${only}" OR
       (skip AND name MATCHES "${skip}"))
      continue()
    endif()
    contend_scenario_test(${prefix}.${name} 0 ARGS run ${file} --case ${name} --quiet)
  endforeach()
endfunction()

if(CONTEND_ASAN OR CONTEND_TSAN)
  contend_scenario_cases(sqlite-modes ${S}/sqlite-modes.ini "\\.2x4$|-retry\\.|-relative\\."
                         "${CONTEND_SQLITE_UB_CASES}")
  contend_scenario_cases(seen-store ${S}/seen-store.ini "." "${CONTEND_SQLITE_UB_CASES}")
else()
  # The anomaly matrix, whole: every broken cell finds its violation, every
  # other cell is clean, and busy counts show.  Seeds 1..20 are checked by
  # hand (README): too slow for every CI run.
  contend_scenario_test(scenario.sqlite-modes 0
                        REGEX "claim.shared-conn-serialized.1x8 .* found "
                        ARGS run ${S}/sqlite-modes.ini --quiet)
  contend_scenario_test(scenario.seen-store 0
                        REGEX "check-same-thread-off .*found "
                        ARGS run ${S}/seen-store.ini --quiet)
endif()

contend_scenario_test(scenario.bank-claim-json 0
                      REGEX "claim.nolock .*found double-claim"
                      ARGS run ${S}/bank-claim-json.ini --quiet)

# The verdicts on the new workloads, from flags.
contend_scenario_test(sqlite.busy-column 0 REGEX "busy/retry"
                      ARGS run --workload counter --target sqlite:wal-deferred --procs 4
                           --ops 30 --perturb 300 --quiet)
contend_scenario_test(sqlite.unexpected-lost-update 1 REGEX "FAIL lost-update"
                      ARGS run --workload counter --target sqlite:autocommit-rmw --procs 4
                           --ops 30 --perturb 300 --quiet)
contend_scenario_test(sqlite.bad-journal-mode 2 REGEX "journal_mode=sideways: expected one of"
                      ARGS run --workload counter --target sqlite --journal_mode sideways)
contend_scenario_test(sqlite.bad-busy-timeout 2
                      REGEX "busy_timeout=soon: expected a whole number from 0 to 2147483647"
                      ARGS run --workload counter --target sqlite --busy_timeout soon --quiet)
contend_scenario_test(sqlite.list 0 REGEX "shared-conn-nomutex .*broken"
                      ARGS list)

# The benchmark runs (figures only, no assertion on them).
add_test(NAME bench.sqlite-bare
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/bench/sqlite_bare.sh ${PROJECT_BINARY_DIR} 200 1)
set_tests_properties(bench.sqlite-bare PROPERTIES LABELS integration
                     ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP}"
                     PASS_REGULAR_EXPRESSION "contend = [0-9.]+ % of bare")
