# perdure_add_test(<name> SOURCES <files...> LIBS <targets...> [LABELS <labels...>])
# One doctest executable; every TEST_CASE becomes its own CTest test.
include(doctest)
function(perdure_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE perdure_test_main perdure_warnings perdure_internal_headers ${ARG_LIBS})
  # A CTest test that runs no doctest case would pass without checking anything: that happens when
  # a case's name does not survive discovery (a ';' splits it, as CMake lists do), so it fails.
  set(properties TIMEOUT 600 FAIL_REGULAR_EXPRESSION "test cases: 0 [|]")
  if(ARG_LABELS)
    list(APPEND properties LABELS "${ARG_LABELS}")
  endif()
  doctest_discover_tests(${name} PROPERTIES ${properties})
endfunction()
