# cmake -DPROGRAM=path/to/valise -DOUTPUT=build/completions/valise -P generate.cmake
# Runs `PROGRAM completion` into OUTPUT, which appears only when complete.
# A sanitized build's program runs here too: leak reports are for the tests.
set(ENV{ASAN_OPTIONS} "detect_leaks=0")
execute_process(COMMAND "${PROGRAM}" completion
                OUTPUT_FILE "${OUTPUT}.tmp"
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(REMOVE "${OUTPUT}.tmp")
  message(FATAL_ERROR "${PROGRAM} completion failed (${status})")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
