# perdure_warnings: the warning set every Perdure target compiles with.
add_library(perdure_warnings INTERFACE)
target_compile_options(perdure_warnings INTERFACE -Wall -Wextra $<$<BOOL:${PERDURE_WERROR}>:-Werror>)
