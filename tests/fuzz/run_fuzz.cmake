# run_fuzz.cmake: one ctest fuzz run (tests/fuzz/CMakeLists.txt). Runs HARNESS
# for SECONDS on a fresh copy of its seeds (SEEDS) under WORK, where libFuzzer
# also writes any crashing input; fails when the harness does.
#   cmake -DHARNESS=... -DSEEDS=... -DWORK=... -DSECONDS=10 -P run_fuzz.cmake
foreach(v HARNESS SEEDS WORK SECONDS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzz.cmake: -D${v}=... is required")
  endif()
endforeach()
if(NOT EXISTS ${HARNESS})
  message(FATAL_ERROR "${HARNESS} is not built: cmake --build BUILD --target sonde_fuzzers")
endif()
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(COPY ${SEEDS}/ DESTINATION ${WORK}/corpus)
execute_process(COMMAND ${HARNESS} -max_total_time=${SECONDS} -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
                        -artifact_prefix=${WORK}/artifacts/ ${WORK}/corpus
                WORKING_DIRECTORY ${WORK} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(GLOB found ${WORK}/artifacts/*)
  message(FATAL_ERROR "${HARNESS} failed (${rc}); the input: ${found}. docs/FUZZING.md says how to reproduce, "
                      "minimise and keep it")
endif()
