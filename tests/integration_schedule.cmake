# The controlled schedule (schedule = random | pct): determinism, replay,
# shrink, correct variants clean, blocking calls handed over.
add_test(NAME schedule.replay-shrink
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/schedule_replay.sh $<TARGET_FILE:contend>
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(schedule.replay-shrink PROPERTIES LABELS integration
                     ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP}")
# No perturbation sleeps: the schedule alone finds the races...
contend_scenario_test(schedule.pct-finds 0 REGEX "nolock .*found lost-update"
                      ARGS run ${S}/lost-update.ini --set perturb=0 --set schedule=pct
                           --set ops=20 --quiet)
contend_scenario_test(schedule.random-finds 0 REGEX "stale-read .*found lost-update"
                      ARGS run ${S}/lost-update.ini --case stale-read --set perturb=0
                           --set schedule=random --set ops=20 --quiet)
# PCT in rounds (round_ops, default 1): bugs whose window is open only at one
# point of several (the cache's torn value) or only early (a claim, before
# every id is taken).  On seed 3 both are found; drawn as one round over the
# whole run (round_ops = 0), both are missed on that seed.
contend_scenario_test(schedule.pct-rounds-cache 0 REGEX "nolock-threads .*found torn-value"
                      ARGS run ${S}/cache.ini --case nolock-threads --set perturb=0
                           --set schedule=pct --seed 3 --quiet)
contend_scenario_test(schedule.pct-rounds-claim 0 REGEX "claim.stale-read .*found double-claim"
                      ARGS run ${S}/bank-claim-json.ini --case claim.stale-read --set perturb=0
                           --set schedule=pct --seed 3 --quiet)
# Kills under a schedule: a worker killed after one of its threads had
# finished is restarted with that thread, which must not wait for a token
# that never returns to a finished writer (on seed 201 it did: `hang`).
contend_scenario_test(schedule.kill-restart 0 REGEX "flock-threads .*pass"
                      ARGS run ${S}/crash.ini --case flock-threads --set perturb=0
                           --set schedule=pct --seed 201 --quiet)
# ...and flock is handed over, not deadlocked: the lock holder runs.  A
# watchdog fallback would pass too (the OS then schedules a correct case),
# so the test rejects one: the hand-off itself is what is tested.
contend_scenario_test(schedule.flock-clean 0 REGEX "flock .*pass"
                      REJECT "schedule-fallback|the OS schedules the rest"
                      ARGS run ${S}/lost-update.ini --case flock --set perturb=0
                           --set schedule=pct --set ops=20 --quiet)
contend_scenario_test(schedule.bad-mode 2 REGEX "schedule"
                      ARGS run ${S}/lost-update.ini --set schedule=fifo --quiet)
# depth and round_ops are typed options: out of range is exit 2 with the range.
contend_scenario_test(schedule.bad-depth 2 REGEX "depth.*from 1 to 8"
                      ARGS run ${S}/lost-update.ini --set schedule=pct --set depth=9 --quiet)
contend_scenario_test(schedule.bad-round-ops 2 REGEX "round_ops.*from 0 to 1000000"
                      ARGS run ${S}/lost-update.ini --set schedule=pct --set round_ops=-1
                           --quiet)
# The watchdog: a token holder that sleeps where the shim cannot see it
# (thinktime) is named, and the OS schedules the rest; the case ends.  The
# watchdog acts after a quarter of `timeout` (2 s) and the 3 s sleep is far
# from both that and the 8 s a hang needs, so load cannot change the verdict.
contend_scenario_test(schedule.watchdog 0 REGEX "the OS schedules the rest of this case"
                      ARGS run --workload counter --target json-doc --procs 2 --ops 1
                           --thinktime 3s --timeout 8s --schedule pct --quiet)
# Blocking calls handed over instead of the watchdog's fallback: an exec
# program's own flock (through its worker's yield channel), condition
# variables (a test plug-in whose threads take turns), in-process flock.
add_library(plugin_cond_turn MODULE plugin_cond_turn.c)
target_include_directories(plugin_cond_turn PRIVATE ${PROJECT_SOURCE_DIR}/targets)
set_target_properties(plugin_cond_turn PROPERTIES PREFIX "")
add_test(NAME schedule.handoffs
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/schedule_handoffs.sh $<TARGET_FILE:contend>
                 $<TARGET_FILE:plugin_cond_turn>
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(schedule.handoffs PROPERTIES LABELS integration
                     ENVIRONMENT "TMPDIR=${CONTEND_TEST_TMP};CONTEND_PYTHON=${CONTEND_PYTHON};CONTEND_TSAN_BUILD=$<BOOL:${CONTEND_TSAN}>")
