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
