# cmake -P: install the Perdure build in PERDURE_BUILD_DIR into WORK_DIR/prefix, build the consumer
# (CONSUMER_SOURCE_DIR) against it with find_package and run it; run the installed CLI; build the
# consumer again with perdure.pc's flags only, and run it.
set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")

execute_process(COMMAND ${CMAKE_COMMAND} --install "${PERDURE_BUILD_DIR}" --prefix "${prefix}"
                OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}" -G "${GENERATOR}"
                        "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}"
                        "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER}"
                        "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${CMAKE_COMMAND} --build "${consumer_build}" COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${consumer_build}/greeter" --name Installed --data "${WORK_DIR}/greeter-data"
                OUTPUT_VARIABLE greeting COMMAND_ERROR_IS_FATAL ANY)
if(NOT greeting MATCHES "Completed: \"Hello, Installed!\"")
  message(FATAL_ERROR "the consumer printed '${greeting}', not 'Completed: \"Hello, Installed!\"'")
endif()

execute_process(COMMAND "${prefix}/bin/perdure" --help OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)

# perdure.pc: the consumer compiled and linked with what pkg-config says alone, and run again.
file(GLOB_RECURSE pc_file "${prefix}/perdure.pc")
if(NOT pc_file)
  message(FATAL_ERROR "no perdure.pc under ${prefix}")
endif()
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
execute_process(COMMAND pkg-config --cflags --libs perdure OUTPUT_VARIABLE pc_flags OUTPUT_STRIP_TRAILING_WHITESPACE
                COMMAND_ERROR_IS_FATAL ANY)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(extra_flags UNIX_COMMAND "${CXX_FLAGS}")
execute_process(COMMAND ${COMPILER_LAUNCHER} ${CXX_COMPILER} -std=c++20 ${extra_flags} "${CONSUMER_SOURCE_DIR}/main.cpp"
                        -o "${WORK_DIR}/greeter-pkg-config" ${pc_flags}
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${WORK_DIR}/greeter-pkg-config" --name PkgConfig --data "${WORK_DIR}/greeter-pkg-config-data"
                OUTPUT_VARIABLE pc_greeting COMMAND_ERROR_IS_FATAL ANY)
if(NOT pc_greeting MATCHES "Completed: \"Hello, PkgConfig!\"")
  message(FATAL_ERROR "the consumer built with pkg-config printed '${pc_greeting}'")
endif()
message(STATUS "installed, built and ran the consumer; ${greeting}")
