# cmake -P: configure the consumer (CONSUMER_SOURCE_DIR) with Perdure (PERDURE_SOURCE_DIR) as its
# subproject, then check that Perdure added no test and passes on no private include dir and no
# -Werror to the consumer's compile line. Configure only: the compile lines are known by then.
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}" -G "${GENERATOR}"
                        "-DPERDURE_SOURCE_DIR=${PERDURE_SOURCE_DIR}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
                        "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
                OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)

execute_process(COMMAND ${CMAKE_CTEST_COMMAND} -N WORKING_DIRECTORY "${consumer_build}"
                OUTPUT_VARIABLE test_list COMMAND_ERROR_IS_FATAL ANY)
if(NOT test_list MATCHES "Total Tests: 1\n" OR NOT test_list MATCHES "greeter_greets")
  message(FATAL_ERROR "the consumer's CTest should list its one test only:\n${test_list}")
endif()

file(READ "${consumer_build}/compile_commands.json" compile_commands)
string(JSON entries LENGTH "${compile_commands}")
math(EXPR last "${entries} - 1")
foreach(i RANGE ${last})
  string(JSON file GET "${compile_commands}" ${i} file)
  if(file MATCHES "examples/consumer/main.cpp$")
    string(JSON consumer_compile GET "${compile_commands}" ${i} command)
  endif()
endforeach()
if(NOT consumer_compile)
  message(FATAL_ERROR "no compile command for the consumer's main.cpp")
endif()
if(NOT consumer_compile MATCHES "-I${PERDURE_SOURCE_DIR}/include( |$)")
  message(FATAL_ERROR "the consumer's compile line lacks Perdure's public include dir:\n${consumer_compile}")
endif()
string(REGEX MATCHALL "-I${PERDURE_SOURCE_DIR}[^ ]*" perdure_include_dirs "${consumer_compile}")
if(NOT perdure_include_dirs STREQUAL "-I${PERDURE_SOURCE_DIR}/include")
  message(FATAL_ERROR "Perdure passes on include dirs besides its public one: ${perdure_include_dirs}")
endif()
if(consumer_compile MATCHES "-Werror")
  message(FATAL_ERROR "Perdure passes on -Werror:\n${consumer_compile}")
endif()
message(STATUS "as a subproject Perdure adds no test and passes on ${perdure_include_dirs} only")
