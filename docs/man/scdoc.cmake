# cmake -DSCDOC=... -DSOURCE=page.scd -DOUTPUT=page -DVERSION=... -P scdoc.cmake
# Puts the version in the page's footer (@VALISE_VERSION@) and runs scdoc,
# which reads standard input only; a failed page leaves no output behind.
file(READ "${SOURCE}" text)
string(REPLACE "@VALISE_VERSION@" "${VERSION}" text "${text}")
get_filename_component(dir "${OUTPUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
file(WRITE "${OUTPUT}.scd" "${text}")
execute_process(COMMAND "${SCDOC}" INPUT_FILE "${OUTPUT}.scd" OUTPUT_FILE "${OUTPUT}.tmp"
                ERROR_VARIABLE error RESULT_VARIABLE status)
file(REMOVE "${OUTPUT}.scd")
if(NOT status EQUAL 0)
  file(REMOVE "${OUTPUT}.tmp")
  message(FATAL_ERROR "${SOURCE}: ${error}")
endif()
file(RENAME "${OUTPUT}.tmp" "${OUTPUT}")
