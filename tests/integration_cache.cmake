# Integration runs of the cache workload, the lru-cache target and time
# control.  contend_scenario_test(NAME CODE [REGEX re] ARGS ...) requires exit
# CODE and, if given, REGEX in the output.

set(S ${PROJECT_SOURCE_DIR}/scenarios)

# The story: every broken variant found, the fix clean, the clock controlled.
contend_scenario_test(scenario.cache 0 REGEX "ttl-10m-x100 .*pass"
                      ARGS run ${S}/cache.ini --quiet)

# Seeds 1..20 (3 in instrumented builds) for every case but the 10 s sped-up
# one (cache_expiry below).
foreach(case nolock-threads:found nolock-procs:found lazy-expiry:found unbounded:found
             mutex-threads:pass mutex-procs:pass wallclock-ttl-jump:found mutex-jump:pass
             wallclock-ttl-forward:pass)
  string(REPLACE ":" ";" parts ${case})
  list(GET parts 0 name)
  list(GET parts 1 verdict)
  contend_scenario_test(scenario.cache.${name}.seeds 0
                        REGEX "${name} .*${verdict}.*\\(all ${CONTEND_SEEDS} runs\\)"
                        ARGS run ${S}/cache.ini --case ${name} --repeat ${CONTEND_SEEDS} --quiet)
endforeach()

# A 10 minute TTL expires within a run of 10 real seconds; figures stay real.
add_test(NAME cache.ttl-10m-x100-expires
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/cache_expiry.sh $<TARGET_FILE:contend>
                 ${S}/cache.ini)
set_tests_properties(cache.ttl-10m-x100-expires PROPERTIES LABELS integration
                     ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP}")

# Nothing of libfaketime is left behind, whatever happened to the run.
add_test(NAME time.no-leftovers
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/faketime_leftovers.sh $<TARGET_FILE:contend>
                 ${S}/cache.ini)
set_tests_properties(time.no-leftovers PROPERTIES LABELS integration
                     ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP}")

# The checker's teeth, from the command line: a broken variant without expect fails.
contend_scenario_test(cache.nolock-unexpected 1 REGEX "torn-value \\([0-9]+\\): [0-9]+ gets returned"
                      ARGS run --workload cache --target lru-cache:nolock --threads 4 --ops 500
                           --keys 50 --perturb 100 --quiet)
contend_scenario_test(cache.worker-scope-procs 0 REGEX "lru-cache:mutex .*pass"
                      ARGS run --workload cache --target lru-cache --procs 2 --threads 2
                           --scope worker --ops 500 --keys 50 --ttl 5ms --quiet)
# Refused when the scenario is read (issue 11), no longer at setup.
contend_scenario_test(cache.bad-value-size 2
                      REGEX "value_size=20: expected a whole number from 32 to 4096, a multiple of 8"
                      ARGS run --workload cache --target lru-cache --procs 2 --ops 10
                           --value_size 20 --quiet)

# Time control works for any target, not only the cache.
contend_scenario_test(time.counter-speed 0 REGEX "json-doc:flock .*pass"
                      ARGS run --workload counter --target json-doc --procs 2 --ops 50
                           --set time.speed=100 --quiet)
contend_scenario_test(time.counter-jump 0 REGEX "json-doc:flock .*pass"
                      ARGS run --workload counter --target json-doc --procs 2 --ops 50
                           --set time.jump=-1h@20%,+1h@60% --quiet)

# Missing or broken libfaketime: exit 4 with a reason; bad keys: exit 2.
# cache_env_test(NAME CODE REGEX VAR=VALUE ARGS...) runs contend with VAR set.
function(cache_env_test name code regex var)
  add_test(NAME ${name}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh ${code} "${regex}"
                   env ${var} $<TARGET_FILE:contend> ${ARGN}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set_tests_properties(${name} PROPERTIES LABELS integration
                       ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP}")
endfunction()
cache_env_test(time.missing-libfaketime 4
               "time control needs libfaketime: CONTEND_LIBFAKETIME=/nonexistent"
               CONTEND_LIBFAKETIME=/nonexistent/libfaketime.so.1
               run --workload counter --target null --ops 10 --set time.speed=100 --quiet)
cache_env_test(time.not-libfaketime 4 "did not load in a worker process"
               CONTEND_LIBFAKETIME=$<TARGET_FILE:file_counter>
               run --workload counter --target null --ops 10 --set time.speed=100 --quiet)
contend_scenario_test(time.speed-and-jump 4 REGEX "speed and jump cannot be combined"
                      ARGS run --workload counter --target null --ops 10
                           --set time.speed=10 --set time.jump=-1h@50% --quiet)
contend_scenario_test(time.bad-speed 2 REGEX "time.speed=0: expected a speed factor"
                      ARGS run --workload counter --target null --set time.speed=0)
contend_scenario_test(time.bad-jump 2 REGEX "time.jump=-30x@50%: expected up to"
                      ARGS run --workload counter --target null --set time.jump=-30x@50%)
contend_scenario_test(time.bad-thinktime 2 REGEX "thinktime=soon: expected a positive duration"
                      ARGS run --workload counter --target null --thinktime soon)
contend_scenario_test(list.cache 0 REGEX "wallclock-ttl .*broken: stale-read" ARGS list)
