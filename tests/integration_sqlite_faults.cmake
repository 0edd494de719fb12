# Faults on the sqlite target (kills and power cuts under each synchronous
# setting), the ledger on sqlite, and the engine fixes found on the way
# (included from tests/CMakeLists.txt).

# A worker the faults extension restarted is a new process: its own death
# is reported.  Seed 3 kills worker 0 once, then the restarted worker dies of
# SIGSEGV in its 30th op (crash_at counts per open); before the fix the
# runner took that death for the planned one and the case passed.
contend_scenario_test(faults.restarted-worker-crash 1 REGEX "died of signal 11"
                      ARGS run --workload counter --target null --procs 1 --ops 200
                           --set crash_at=30 --kill 20 --seed 3 --quiet)

# A worker started again after a fault that cannot open its store (null's
# fail_reopen: every open after a worker's first fails) is the store's
# failure, corrupt-store, exit 1; not the harness's (exit 4).
contend_scenario_test(faults.reopen-fails-corrupt-store 1
                      REGEX "corrupt-store .*could not start again after a fault: cannot open"
                      ARGS run --workload counter --target null --procs 2 --ops 100 --kill 30
                           --set fail_reopen=1 --quiet)
# The same option without faults: every worker opens once, clean.
contend_scenario_test(faults.reopen-once-clean 0 REGEX "null:default .*pass"
                      ARGS run --workload counter --target null --procs 2 --ops 100
                           --set fail_reopen=1 --quiet)
