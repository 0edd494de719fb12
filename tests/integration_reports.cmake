# Reports, comparison, sweeps and the progress line (issue 7).  The HTML and
# JUnit checkers (tests/reports/*.py, python3 stdlib only) are tested
# themselves on broken samples, so that a checker that passes everything
# cannot pass here.

set(RDIR ${CONTEND_TEST_TMP}/reports)
file(MAKE_DIRECTORY ${RDIR})
set(CHECK_HTML ${CMAKE_CURRENT_SOURCE_DIR}/reports/check_html.py)
set(CHECK_JUNIT ${CMAKE_CURRENT_SOURCE_DIR}/reports/check_junit.py)
set(EXPECT ${CMAKE_CURRENT_SOURCE_DIR}/expect_exit.sh)

# contend_check_test(NAME FIXTURE COMMAND...): a checker run on a fixture's output.
function(contend_check_test name fixture)
  add_test(NAME ${name} COMMAND ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS integration FIXTURES_REQUIRED ${fixture})
endfunction()

# Hostile case names and texts through every report.  The run exits 1: the
# case named <script>alert(1)</script> loses updates, the one named "&' fails
# its min_tps gate.
contend_scenario_test(reports.hostile.run 1 REGEX "junit report: "
                      ARGS run ${T}/hostile.ini --quiet --json ${RDIR}/hostile.json
                           --html ${RDIR}/hostile.html --markdown ${RDIR}/hostile.md
                           --junit ${RDIR}/hostile.xml)
set_tests_properties(reports.hostile.run PROPERTIES FIXTURES_SETUP hostile)
contend_check_test(reports.hostile.html hostile python3 ${CHECK_HTML} ${RDIR}/hostile.html
                   --cases 2 --case "<script>alert(1)</script>" --case "\"&'" --violations 1)
contend_check_test(reports.hostile.junit hostile python3 ${CHECK_JUNIT} ${RDIR}/hostile.xml
                   --tests 2 --failures 2 --errors 0
                   --failure-type "<script>alert(1)</script>=lost-update"
                   --failure-type "\"&'=gate")
contend_check_test(reports.hostile.markdown hostile ${EXPECT} 0
                   "^\\| ❌ \\| &lt.script&gt.alert\\(1\\)&lt./script&gt. \\| json-doc:nolock"
                   cat ${RDIR}/hostile.md)

# Every report is rendered from run.json alone: `contend report` gives the
# same bytes as the run did.
contend_scenario_test(report.rerender 0 REGEX "junit report: "
                      ARGS report ${RDIR}/hostile.json --html ${RDIR}/again.html
                           --markdown ${RDIR}/again.md --junit ${RDIR}/again.xml)
set_tests_properties(report.rerender PROPERTIES FIXTURES_REQUIRED hostile
                     FIXTURES_SETUP rerender)
foreach(ext html md xml)
  contend_check_test(report.rerender.same-${ext} rerender
                     cmp ${RDIR}/hostile.${ext} ${RDIR}/again.${ext})
endforeach()
contend_scenario_test(report.text 0 REGEX "FAIL lost-update" ARGS report ${RDIR}/hostile.json)
set_tests_properties(report.text PROPERTIES FIXTURES_REQUIRED hostile)
contend_scenario_test(report.not-json 2 REGEX "hostile.ini:1: not JSON"
                      ARGS report ${T}/hostile.ini --html ${RDIR}/x.html)
contend_scenario_test(report.missing 2 REGEX "cannot read" ARGS report /nonexistent/run.json)
contend_scenario_test(report.unknown-flag 2 REGEX "unknown option --pdf"
                      ARGS report x.json --pdf y)
contend_scenario_test(report.help 0 REGEX "usage: contend report" ARGS report --help)

# The demo suite's HTML and JUnit.
contend_scenario_test(reports.demo.run 0 REGEX "html report: "
                      ARGS run ${S}/demo.ini --quiet --html ${RDIR}/demo.html
                           --junit ${RDIR}/demo.xml)
set_tests_properties(reports.demo.run PROPERTIES FIXTURES_SETUP demo)
contend_check_test(reports.demo.html demo python3 ${CHECK_HTML} ${RDIR}/demo.html
                   --cases 5 --violations 2 --case lost-update --case harness-overhead)
contend_check_test(reports.demo.junit demo python3 ${CHECK_JUNIT} ${RDIR}/demo.xml
                   --tests 5 --failures 0 --errors 0)

# The checkers reject what they must.
foreach(bad script external crossed no-csp empty-plot)
  add_test(NAME reports.check-html-rejects.${bad}
           COMMAND ${EXPECT} 1 "" python3 ${CHECK_HTML}
                   ${CMAKE_CURRENT_SOURCE_DIR}/reports/bad/${bad}.html)
endforeach()
foreach(bad two-children zone no-system-err counts no-type malformed)
  add_test(NAME reports.check-junit-rejects.${bad}
           COMMAND ${EXPECT} 1 "" python3 ${CHECK_JUNIT}
                   ${CMAKE_CURRENT_SOURCE_DIR}/reports/bad/${bad}.xml)
endforeach()

# contend compare's verdicts on synthetic runs (tests/compare/make.py): no
# test here measures anything, so none depends on the machine's speed or load.
set(CDIR ${CMAKE_CURRENT_SOURCE_DIR}/compare)
foreach(t "same|same|0|steady=no change|slowed=no change"
          "slow|slow|3|steady=no change|slowed=slower"
          "drift|drift|0|steady=no change|slowed=no change"
          "noisy|noisy|0|steady=no change|slowed=noisy — re-run"
          "shifted|shifted|0|steady=noisy — re-run|slowed=noisy — re-run"
          "few|few-slow|0|steady=no change|slowed=noisy — re-run")
  string(REPLACE "|" ";" t "${t}")
  list(GET t 0 name)
  list(GET t 1 new)
  list(GET t 2 code)
  list(GET t 3 v1)
  list(GET t 4 v2)
  set(base base)
  if(name STREQUAL "few" OR name STREQUAL "drift" OR name STREQUAL "shifted")
    set(base ${name}-base)
  endif()
  add_test(NAME compare.${name}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/compare.sh $<TARGET_FILE:contend>
                   ${CDIR}/${base}.json ${CDIR}/${new}.json ${code} ${v1} ${v2})
  set_tests_properties(compare.${name} PROPERTIES LABELS integration)
endforeach()
# Whatever the load: three repetitions a side can never be significant, and
# a run pooled with itself is identical on both sides.
contend_scenario_test(compare.three.run 0 ARGS run --workload counter --target null --ops 1000
                      --repeat 3 --quiet --json ${RDIR}/three.json)
set_tests_properties(compare.three.run PROPERTIES FIXTURES_SETUP three)
contend_scenario_test(compare.three 0 REGEX "fewer than 9 repetitions on a side"
                      ARGS compare ${RDIR}/three.json ${RDIR}/three.json
                           --markdown ${RDIR}/three.md --json ${RDIR}/three-cmp.json)
contend_scenario_test(compare.pooled 0 REGEX "cli +tx/s +6v6 .* no change"
                      ARGS compare ${RDIR}/three.json,${RDIR}/three.json
                           ${RDIR}/three.json,${RDIR}/three.json --max-slowdown 1)
contend_scenario_test(compare.pooled-missing 2 REGEX "cannot read /nonexistent.json"
                      ARGS compare ${RDIR}/three.json,/nonexistent.json ${RDIR}/three.json)
contend_scenario_test(compare.json-stdout 0 REGEX "\"kind\": \"compare\""
                      ARGS compare ${RDIR}/three.json ${RDIR}/three.json --json -)
set_tests_properties(compare.three compare.pooled compare.pooled-missing compare.json-stdout
                     PROPERTIES FIXTURES_REQUIRED three)
contend_scenario_test(compare.too-few-runs 2 REGEX "no case could be compared"
                      ARGS compare ${RDIR}/hostile.json ${RDIR}/hostile.json)
set_tests_properties(compare.too-few-runs PROPERTIES FIXTURES_REQUIRED hostile)
contend_scenario_test(compare.one-file 2 REGEX "usage: contend compare" ARGS compare a.json)
contend_scenario_test(compare.bad-alpha 2 REGEX "--alpha expects a number"
                      ARGS compare a.json b.json --alpha 2)
contend_scenario_test(compare.help 0 REGEX "usage: contend compare" ARGS compare --help)

# contend sweep over procs = 1, 2, 4 of the null and json-doc targets.
contend_scenario_test(sweep.procs 0 REGEX "json-doc +4 +[0-9.]+ +[0-9.]+ "
                      ARGS sweep ${T}/sweep.ini --param procs=1,2,4 --dir ${RDIR}/sweep
                           --quiet)
set_tests_properties(sweep.procs PROPERTIES FIXTURES_SETUP sweep)
contend_check_test(sweep.html sweep python3 ${CHECK_HTML} ${RDIR}/sweep/sweep.html --sweep)
contend_scenario_test(sweep.grid 0 REGEX "null +2 +2 "
                      ARGS sweep ${T}/sweep.ini --case null --param procs=1,2
                           --param threads=1,2 --set ops=1000 --dir ${RDIR}/grid --quiet)
contend_scenario_test(sweep.bad-value 2 REGEX "procs=0"
                      ARGS sweep ${T}/sweep.ini --param procs=0 --dir ${RDIR}/bad --quiet)
contend_scenario_test(sweep.no-param 2 REGEX "no --param" ARGS sweep ${T}/sweep.ini)
contend_scenario_test(sweep.help 0 REGEX "usage: contend sweep" ARGS sweep --help)

# The progress line: on a terminal only.
add_test(NAME run.progress COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/progress.sh $<TARGET_FILE:contend>)
set_tests_properties(run.progress PROPERTIES LABELS integration)

# The compare page: valid, self-contained, one verdict row per case
# (synthetic runs: the verdicts are known), and on real runs with plots.
contend_scenario_test(compare.html.synthetic 3 ARGS compare ${CDIR}/base.json ${CDIR}/slow.json
                      --quiet --html ${RDIR}/compare-synthetic.html)
set_tests_properties(compare.html.synthetic PROPERTIES FIXTURES_SETUP compare-html)
contend_check_test(compare.html.synthetic.check compare-html python3 ${CHECK_HTML}
                   ${RDIR}/compare-synthetic.html --case steady --case slowed)
contend_scenario_test(compare.html.run 0 ARGS compare ${RDIR}/three.json ${RDIR}/three.json
                      --quiet --html ${RDIR}/compare-three.html)
set_tests_properties(compare.html.run PROPERTIES FIXTURES_REQUIRED three
                     FIXTURES_SETUP compare-html-run)
contend_check_test(compare.html.run.check compare-html-run python3 ${CHECK_HTML}
                   ${RDIR}/compare-three.html --case cli)

# contend ab: two settings of one case, interleaved.  The floor is set out of
# reach so the verdict is `no change` whatever the machine does: this checks
# the rounds and the pooling, not speed.
contend_scenario_test(ab.settings 0 REGEX "steady +tx/s +2v2"
                      ARGS ab ${T}/compare-demo.ini --case steady --set ops=2000
                           --a-set delay_ns=1000 --b-set delay_ns=1200 --rounds 2
                           --max-slowdown 1000000 --dir ${RDIR}/ab --html ${RDIR}/ab.html)
contend_scenario_test(ab.help 0 REGEX "usage: contend ab" ARGS ab --help)
contend_scenario_test(ab.bad-rounds 2 REGEX "--rounds expects a count" ARGS ab ${T}/compare-demo.ini
                      --rounds 0)
contend_scenario_test(ab.bad-set 2 REGEX "expects KEY=VALUE" ARGS ab ${T}/compare-demo.ini
                      --a-set delay_ns)
contend_scenario_test(ab.bad-bin 2 REGEX "is not an executable" ARGS ab ${T}/compare-demo.ini
                      --b /nonexistent/contend)
contend_scenario_test(ab.no-scenario 2 REGEX "usage: contend ab" ARGS ab)
