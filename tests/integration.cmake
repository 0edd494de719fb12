# Integration runs of the real binary.  contend_scenario_test(NAME CODE
# [REGEX re] ARGS ...) requires exit CODE and, if given, REGEX in the output.

set(S ${PROJECT_SOURCE_DIR}/scenarios)
set(T ${CMAKE_CURRENT_SOURCE_DIR}/scenarios)

# The stories.
contend_scenario_test(scenario.lost-update 0 REGEX "nolock .*found lost-update"
                      ARGS run ${S}/lost-update.ini --quiet)
contend_scenario_test(scenario.lost-update.seeds 0
                      REGEX "flock .*pass \\(all ${CONTEND_SEEDS} runs\\)"
                      ARGS run ${S}/lost-update.ini --quiet --repeat ${CONTEND_SEEDS})
contend_scenario_test(scenario.demo 0 REGEX "harness-overhead"
                      ARGS run ${S}/demo.ini --quiet)

# The verdicts: a violation without expect fails; an unmet expect fails.
contend_scenario_test(run.unexpected-violation 1 REGEX "FAIL lost-update"
                      ARGS run --workload counter --target json-doc:nolock --procs 4 --ops 50
                           --perturb 200 --quiet)
contend_scenario_test(run.expect-not-met 1 REGEX "FAIL missing lost-update"
                      ARGS run ${T}/expect-not-met.ini --quiet)
contend_scenario_test(run.repro-line 1 REGEX "repro: contend run .*--seed 5"
                      ARGS run --workload counter --target json-doc:stale-read --procs 3
                           --ops 20 --perturb 300 --seed 5 --quiet)
contend_scenario_test(run.crash 1 REGEX "died of signal 11 .* during worker 0 op #4"
                      ARGS run --workload counter --target null --procs 2 --ops 100
                           --set crash_at=5 --quiet)
contend_scenario_test(run.crash-expected 0 REGEX "found crash"
                      ARGS run --workload counter --target null --procs 2 --ops 100
                           --set crash_at=5 --expect crash --quiet)
contend_scenario_test(run.hang 0 REGEX "hang .*made no progress"
                      ARGS run --workload counter --target json-doc --ops 3 --perturb 3000000
                           --timeout 500ms --expect hang --quiet)
contend_scenario_test(run.gate-min-tps 3 REGEX "min_tps: .* is below"
                      ARGS run --workload counter --target null --ops 1000 --min-tps 1e15
                           --quiet)
contend_scenario_test(run.threads-and-keys 0 REGEX "2x3"
                      ARGS run --workload counter --target json-doc --procs 2 --threads 3
                           --keys 5 --ops 30 --read_pct 30 --quiet)
contend_scenario_test(run.duration 0 REGEX "null:default"
                      ARGS run --workload counter --target null --procs 2 --threads 2
                           --duration 300ms --quiet)
contend_scenario_test(run.json-flag 0 REGEX "run.json: .*/given.json"
                      ARGS run --workload counter --target null --ops 10
                           --json ${CONTEND_TEST_TMP}/given.json --quiet)
contend_scenario_test(run.plugin-broken 0 REGEX "file-counter:unlocked .*found lost-update"
                      ARGS run --workload counter --target_path $<TARGET_FILE:file_counter>
                           --variant unlocked --procs 4 --ops 100 --perturb 100
                           --expect lost-update --quiet)
contend_scenario_test(run.plugin-correct 0 REGEX "file-counter:ofd-lock .*pass"
                      ARGS run --workload counter --target_path $<TARGET_FILE:file_counter>
                           --procs 2 --threads 2 --keys 3 --ops 100 --perturb 100 --quiet)
contend_scenario_test(run.plugin-missing 2 REGEX "cannot load plug-in"
                      ARGS run --workload counter --target_path /nonexistent/x.so --quiet)
contend_scenario_test(run.plugin-old-abi 2 REGEX "plug-in built for target ABI 1, this contend speaks ABI 2"
                      ARGS run --workload counter --target_path $<TARGET_FILE:plugin_old_abi>
                           --quiet)
contend_scenario_test(list 0 REGEX "stale-read .*broken: lost-update" ARGS list)
contend_scenario_test(help 0 REGEX "usage: contend run" ARGS run --help)
# One convention for every command (harness/cli/args.h): --help exits 0,
# a usage error exits 2 with what was wrong on the first line, then usage.
foreach(cmd run list verify report sweep compare ab replay shrink)
  contend_scenario_test(cli.help.${cmd} 0 REGEX "^usage: contend ${cmd}" ARGS ${cmd} --help)
  contend_scenario_test(cli.bad-option.${cmd} 2
                        REGEX "^contend ${cmd}: unknown option -Z"
                        ARGS ${cmd} -Z)
endforeach()
contend_scenario_test(cli.version 0 REGEX "^contend [0-9]" ARGS --version)
contend_scenario_test(cli.version-command 0 REGEX "^contend [0-9]" ARGS version)
contend_scenario_test(cli.no-command 2 REGEX "no command given" ARGS)
contend_scenario_test(cli.did-you-mean-command 2 REGEX "unknown command 'rnu' \\(did you mean 'run'\\?\\)"
                      ARGS rnu)
contend_scenario_test(cli.did-you-mean-option 2 REGEX "did you mean --hash-field"
                      ARGS verify ledger x --hash-feild h)
contend_scenario_test(cli.did-you-mean-target 2 REGEX "did you mean 'json-doc'"
                      ARGS run --workload counter --target jsondoc)
contend_scenario_test(cli.did-you-mean-variant 2 REGEX "did you mean 'flock'"
                      ARGS run --workload counter --target json-doc:flok)
contend_scenario_test(cli.did-you-mean-key 2 REGEX "did you mean 'procs'"
                      ARGS run --workload counter --target null --proc 2)
contend_scenario_test(cli.did-you-mean-case 2 REGEX "no case named 'flok' \\(did you mean 'flock'"
                      ARGS run ${S}/lost-update.ini --case flok)

# Bad input: exit 2 with file:line, never a crash.
foreach(bad unknown-key:5 procs-zero:4 procs-negative:4 ops-abc:4 missing-target:4
            unknown-variant:4 binary:1)
  string(REPLACE ":" ";" parts ${bad})
  list(GET parts 0 name)
  list(GET parts 1 line)
  contend_scenario_test(bad-scenario.${name} 2 REGEX "bad-${name}.ini:${line}: "
                        ARGS run ${T}/bad-${name}.ini)
endforeach()
contend_scenario_test(bad-usage.no-args 2 ARGS run)
contend_scenario_test(bad-usage.unknown-flag 2 REGEX "--frobnicate: frobnicate=1: unknown key"
                      ARGS run --workload counter --target null --frobnicate 1)
contend_scenario_test(bad-usage.unknown-command 2 REGEX "unknown command" ARGS frobnicate)
contend_scenario_test(bad-usage.set-value 2 REGEX "--set: procs=0"
                      ARGS run --workload counter --target null --set procs=0)
contend_scenario_test(bad-usage.missing-file 2 REGEX "cannot read scenario"
                      ARGS run /nonexistent/x.ini)

# Ctrl-C: no process and no directory left behind but the one printed.
add_test(NAME run.sigint COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/sigint.sh $<TARGET_FILE:contend>)
set_tests_properties(run.sigint PROPERTIES LABELS integration)
