# Integration runs of the rotating log and the event log (issue 16):
# scenarios/rotating-log.ini and scenarios/event-log.ini on 2 seeds each, so
# CI stays at seconds.  Every broken variant must be found on both seeds and
# every correct case must pass on both; the 20-seed runs are in the issue's
# note, with their commands.
set(RL ${PROJECT_SOURCE_DIR}/scenarios/rotating-log.ini)
set(EL ${PROJECT_SOURCE_DIR}/scenarios/event-log.ini)
set(LOG_SEEDS 2)

foreach(spec flock-rotate:pass flock-rotate-3-backups:pass flock-rotate-kill:pass
             flock-rotate-powercut:pass per-process-rotate:found.missing-line
             copytruncate:found.missing-line:pct o-append-no-rotate-check:found.writer-order:pct)
  string(REPLACE ":" ";" parts ${spec})
  list(GET parts 0 case)
  list(GET parts 1 verdict)
  string(REPLACE "." " " verdict ${verdict})
  # A broken variant whose window a controlled schedule opens by itself runs
  # under pct without sleeps: the seed then fixes the interleaving, and the
  # verdict does not depend on the machine's speed (under TSan, copytruncate
  # on the OS's schedule missed its window on one run of two).
  # per-process-rotate stays on the OS's schedule: its missing-line needs a
  # preemption inside a rename chain, which has no point (docs/schedule.md).
  set(sched)
  list(LENGTH parts nparts)
  if(nparts GREATER 2)
    set(sched --set schedule=pct --set perturb=0)
  endif()
  contend_scenario_test(log.rotating.${case} 0
                        REGEX "${case} .*${verdict} \\(all ${LOG_SEEDS} runs\\)"
                        ARGS run ${RL} --case ${case} --repeat ${LOG_SEEDS} ${sched} --quiet)
endforeach()

foreach(spec counter-snapshot-kill:pass counter-snapshot-powercut:pass bank-snapshot-kill:pass
             counter-snapshot-io:pass
             counter-without-offset:found.phantom-update counter-nofsync:found.lost-durable
             bank-nofsync:found.lost-durable counter-truncate-first:found.lost-update)
  string(REPLACE ":" ";" parts ${spec})
  list(GET parts 0 case)
  list(GET parts 1 verdict)
  string(REPLACE "." " " verdict ${verdict})
  contend_scenario_test(log.event.${case} 0
                        REGEX "${case} .*${verdict} \\(all ${LOG_SEEDS} runs\\)"
                        ARGS run ${EL} --case ${case} --repeat ${LOG_SEEDS} --quiet)
endforeach()
