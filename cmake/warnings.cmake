# perdure_warnings: the warning set every Perdure target compiles with.
add_library(perdure_warnings INTERFACE)
target_compile_options(perdure_warnings INTERFACE -Wall -Wextra $<$<BOOL:${PERDURE_WERROR}>:-Werror>)
# g++ 12 at -O3 (Release) reports -Wrestrict on libstdc++'s own std::string code once it inlines an
# insert at the front ("#" + text, "b" + std::to_string(n)): a false positive of that compiler (GCC
# bug 105329), which failed 8 of the first 133 steps of a Release build under -Werror. Off for that
# compiler in that configuration only; the other build types and compilers keep it.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12
   AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(perdure_warnings INTERFACE $<$<CONFIG:Release>:-Wno-restrict>)
endif()
