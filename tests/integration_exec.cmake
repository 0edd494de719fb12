# The exec line-protocol target with the Python example adapter
# (examples/exec/json_counter.py) and a shell program that dies mid-run.

set(ADAPTER "python3 ${PROJECT_SOURCE_DIR}/examples/exec/json_counter.py")
contend_scenario_test(exec.python-nolock 0 REGEX "exec:default .*found lost-update"
                      ARGS run --workload counter --target exec --set "cmd=${ADAPTER}"
                           --procs 4 --ops 40 --perturb 300 --expect lost-update --quiet)
contend_scenario_test(exec.python-lock 0 REGEX "exec:default .*2x2 .*pass"
                      ARGS run --workload counter --target exec --set "cmd=${ADAPTER} --lock"
                           --procs 2 --threads 2 --keys 3 --ops 30 --perturb 200 --quiet)
# The program answers setup and open, then exits at the first increment: that
# op is indeterminate (it may have happened), every later one fails, and the
# counter bound 0 <= final <= 0 + 1 holds.
contend_scenario_test(exec.program-dies 0 REGEX "exec:default .*0/9/1 .*pass"
                      ARGS run --workload counter --target exec --ops 10 --quiet
                           --set "cmd=${CMAKE_CURRENT_SOURCE_DIR}/exec/dies_at_first_op.sh")
contend_scenario_test(exec.no-cmd 4 REGEX "setup failed"
                      ARGS run --workload counter --target exec --quiet)
