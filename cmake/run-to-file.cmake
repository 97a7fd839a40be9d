# cmake -DPROGRAM=path/to/program -DARGS="a;b" -DOUTPUT=file -P run-to-file.cmake
# Runs PROGRAM ARGS into OUTPUT, which appears only when the program
# succeeded: a build step that writes what a built program prints (the bash
# completion scripts, the packaged server.toml) never leaves half a file that
# the next build takes as done. A sanitized build's programs run here too:
# leak reports are for the tests.
set(ENV{ASAN_OPTIONS} "detect_leaks=0")
execute_process(COMMAND "${PROGRAM}" ${ARGS}
                OUTPUT_FILE "${OUTPUT}.tmp"
                RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  file(REMOVE "${OUTPUT}.tmp")
  message(FATAL_ERROR "${PROGRAM} ${ARGS} failed (${status})")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
