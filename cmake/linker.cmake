# Links with lld where the compiler accepts it. Each of the ~95 test, example and benchmark programs
# links Perdure's static libraries; GNU ld took 7.1 s for one of them where lld took 1.0-1.2 s
# (docs/benchmarks.md, "The test command"), and linking twice (optimized and sanitizer builds) is
# a good part of CI's time. Only in Perdure's own builds: a consumer's linker is its own choice.
option(PERDURE_USE_LLD "Link with lld when the compiler accepts -fuse-ld=lld" ${PROJECT_IS_TOP_LEVEL})
if(PERDURE_USE_LLD)
  include(CheckLinkerFlag)
  check_linker_flag(CXX "-fuse-ld=lld" PERDURE_HAVE_LLD)
  if(PERDURE_HAVE_LLD)
    add_link_options(-fuse-ld=lld)
  else()
    message(STATUS "lld not found: linking with the compiler's default linker (slower; Debian package lld)")
  endif()
endif()
