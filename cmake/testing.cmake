# perdure_add_test(<name> SOURCES <files...> LIBS <targets...> [LABELS <labels...>])
# One doctest executable; every TEST_CASE becomes its own CTest test.
include(doctest)
function(perdure_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE perdure_test_main perdure_warnings ${ARG_LIBS})
  doctest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 600)
endfunction()
