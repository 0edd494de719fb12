# Faults (harness/faults/): the shim's unit test, the fault scenarios, and the
# process hygiene around kills, restarts and power cuts.

# A program for the shim to be loaded into (tests/unit/test_shim.c runs it).
add_executable(fault_probe fault_probe.c)
target_link_libraries(fault_probe PRIVATE ${CMAKE_DL_LIBS})
target_compile_definitions(test_shim PRIVATE
                           CONTEND_FAULT_PROBE="$<TARGET_FILE:fault_probe>"
                           CONTEND_FAULT_SHIM_SO="$<TARGET_FILE:contend_faultshim>")
add_dependencies(test_shim fault_probe contend_faultshim)

