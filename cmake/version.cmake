# valise's version, one definition for the programs' --version and the Debian
# packages (scripts/package):
#   - VALISE_VERSION when given (the package build passes its changelog's);
#   - else from `git describe`: "0.2.0" on a tag v0.2.0, "0.2.0+5.gabc1234"
#     five commits after it; with no tag, the project's version and the number
#     of commits ("0.1.0+232.gabc1234"), so that a later commit always has a
#     higher Debian version (the upgrade test relies on it);
#   - else (a source tree without git) the project's version.
# `cmake -P cmake/version.cmake` prints it (-DREV=COMMIT: that commit's).

function(valise_version_from_git source_dir base_version rev out)
  set(version "${base_version}")
  find_package(Git QUIET)
  if(GIT_FOUND AND EXISTS "${source_dir}/.git")
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" describe --tags --long --match "v[0-9]*" --abbrev=7 ${rev}
      WORKING_DIRECTORY "${source_dir}" OUTPUT_VARIABLE described
      RESULT_VARIABLE failed OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(NOT failed AND described MATCHES "^v([0-9][^-]*)-([0-9]+)-g([0-9a-f]+)$")
      set(version "${CMAKE_MATCH_1}")
      if(NOT CMAKE_MATCH_2 STREQUAL "0")
        string(APPEND version "+${CMAKE_MATCH_2}.g${CMAKE_MATCH_3}")
      endif()
    else()
      execute_process(
        COMMAND "${GIT_EXECUTABLE}" rev-list --count ${rev}
        WORKING_DIRECTORY "${source_dir}" OUTPUT_VARIABLE count
        RESULT_VARIABLE count_failed OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      execute_process(
        COMMAND "${GIT_EXECUTABLE}" rev-parse --short=7 ${rev}
        WORKING_DIRECTORY "${source_dir}" OUTPUT_VARIABLE hash
        RESULT_VARIABLE hash_failed OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(NOT count_failed AND NOT hash_failed)
        set(version "${base_version}+${count}.g${hash}")
      endif()
    endif()
  endif()
  set(${out} "${version}" PARENT_SCOPE)
endfunction()

# The files whose change means a new commit: CMake configures again (and the
# version source is rewritten) when HEAD moves.
function(valise_git_head_files source_dir out)
  set(files)
  find_package(Git QUIET)
  if(GIT_FOUND AND EXISTS "${source_dir}/.git")
    execute_process(
      COMMAND "${GIT_EXECUTABLE}" symbolic-ref -q HEAD
      WORKING_DIRECTORY "${source_dir}" OUTPUT_VARIABLE branch
      OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    # HEAD moves with a checkout, the branch's ref with a commit, packed-refs
    # when git packs it.
    foreach(ref HEAD packed-refs ${branch})
      execute_process(
        COMMAND "${GIT_EXECUTABLE}" rev-parse --path-format=absolute --git-path ${ref}
        WORKING_DIRECTORY "${source_dir}" OUTPUT_VARIABLE path
        OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
      if(EXISTS "${path}")
        list(APPEND files "${path}")
      endif()
    endforeach()
  endif()
  set(${out} "${files}" PARENT_SCOPE)
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  get_filename_component(root "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
  if(NOT REV)
    set(REV HEAD)
  endif()
  # The project's version as that commit's CMakeLists.txt says it.
  find_package(Git QUIET)
  execute_process(COMMAND "${GIT_EXECUTABLE}" show "${REV}:CMakeLists.txt" WORKING_DIRECTORY "${root}"
                  OUTPUT_VARIABLE lists ERROR_QUIET)
  string(REGEX MATCH "project\\(valise VERSION ([0-9.]+)" project_line "${lists}")
  set(base "${CMAKE_MATCH_1}")
  if(NOT base)
    file(STRINGS "${root}/CMakeLists.txt" project_line REGEX "^project\\(valise VERSION ")
    string(REGEX REPLACE ".* VERSION ([0-9.]+).*" "\\1" base "${project_line}")
  endif()
  valise_version_from_git("${root}" "${base}" "${REV}" version)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "${version}")
endif()
