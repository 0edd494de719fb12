# The queue workload on file-queue and sqlite (scenarios/queue.ini), included
# from tests/CMakeLists.txt.  One test per case, each on seeds 1..2: every
# broken variant finds its violation on both, every correct one is clean
# under its kills and power cuts.  Seeds 1..20 are run by hand (see the
# scenario's header).  The throughput and backlog cases measure and gate
# nothing: CI runs them once, small, to see that they run.

set(S ${PROJECT_SOURCE_DIR}/scenarios)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${S}/queue.ini)
file(STRINGS ${S}/queue.ini queue_sections REGEX "^\\[[^]]+\\]")
foreach(line ${queue_sections})
  string(REGEX REPLACE "^\\[([^]]+)\\].*" "\\1" name "${line}")
  if(name STREQUAL "global")
    continue()
  elseif(name MATCHES "^tput-")
    contend_scenario_test(queue.${name} 0 ARGS run ${S}/queue.ini --case ${name} --quiet
                          --set ops=40)
  elseif(name MATCHES "^backlog-")
    contend_scenario_test(queue.${name} 0 ARGS run ${S}/queue.ini --case ${name} --quiet
                          --set ops=400)
  else()
    contend_scenario_test(queue.${name} 0 REGEX "\\(all 2 runs\\)"
                          ARGS run ${S}/queue.ini --case ${name} --quiet --repeat 2)
  endif()
endforeach()

# The checker's unit tests are tests/unit/test_queue.c (picked up by the glob).
