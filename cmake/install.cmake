# cmake --install: the public headers, the static libraries, the perdure CLI, a CMake package
# (find_package(perdure CONFIG) gives perdure::perdure) and a pkg-config file (perdure.pc).
# CPack turns the same rules into two Debian packages: libperdure-dev (component dev) and
# perdure (component cli).
include(CMakePackageConfigHelpers)

set(PERDURE_CMAKE_PACKAGE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/perdure")
set(perdure_libraries perdure perdure_actors perdure_partition perdure_log perdure_storage perdure_model)
# Installed, they are perdure::perdure, perdure::actors, ..., perdure::headers.
set_target_properties(perdure_actors PROPERTIES EXPORT_NAME actors)
set_target_properties(perdure_partition PROPERTIES EXPORT_NAME partition)
set_target_properties(perdure_log PROPERTIES EXPORT_NAME log)
set_target_properties(perdure_storage PROPERTIES EXPORT_NAME storage)
set_target_properties(perdure_model PROPERTIES EXPORT_NAME model)
set_target_properties(perdure_headers PROPERTIES EXPORT_NAME headers)

install(DIRECTORY include/perdure DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT dev)
install(TARGETS ${perdure_libraries} perdure_headers EXPORT perdure_targets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT dev)
install(EXPORT perdure_targets NAMESPACE perdure:: FILE perdureTargets.cmake
        DESTINATION "${PERDURE_CMAKE_PACKAGE_DIR}" COMPONENT dev)
configure_package_config_file(cmake/perdureConfig.cmake.in "${PROJECT_BINARY_DIR}/perdureConfig.cmake"
                              INSTALL_DESTINATION "${PERDURE_CMAKE_PACKAGE_DIR}")
# 0.x: a minor version may break the API, so 0.2 accepts 0.2.* only.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/perdureConfigVersion.cmake"
                                 COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/perdureConfig.cmake" "${PROJECT_BINARY_DIR}/perdureConfigVersion.cmake"
              cmake/FindCAF.cmake
        DESTINATION "${PERDURE_CMAKE_PACKAGE_DIR}" COMPONENT dev)

# The static libraries in link order (each after the ones that use it), then what they use.
list(TRANSFORM perdure_libraries PREPEND "-l" OUTPUT_VARIABLE PERDURE_PC_LIBS)
list(JOIN PERDURE_PC_LIBS " " PERDURE_PC_LIBS)
file(RELATIVE_PATH PERDURE_PC_PREFIX_FROM_PCFILEDIR "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" /prefix)
configure_file(cmake/perdure.pc.in "${PROJECT_BINARY_DIR}/perdure.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/perdure.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig" COMPONENT dev)

install(TARGETS perdure_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT cli)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME perdure)
set(CPACK_PACKAGE_VENDOR "Perdure")
set(CPACK_PACKAGE_CONTACT "Perdure maintainers <perdure@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL dev cli)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libperdure-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
# The first line is the package's synopsis, the rest its long description.
set(CPACK_DEBIAN_DEV_DESCRIPTION "Durable functions for C++20 (headers, static libraries)
Write long-running workflows as C++20 coroutines that Perdure runs on CAF actors and records in
RocksDB. Headers, static libraries, a CMake package (find_package(perdure)) and perdure.pc.")
# What the installed headers and perdureConfig.cmake need: the libraries the static libraries call
# (with their headers, since find_package finds them as a build does), and the CLI11 of
# <perdure/node_flags.hpp> and nlohmann-json of <perdure/codec.hpp>. Versions as the build requires.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libcaf-dev (>= 0.17.6), libcaf-dev (<< 0.17.7), librocksdb-dev (>= 7.8), libcapnp-dev (>= 0.9), \
nlohmann-json3-dev (>= 3.11), libcli11-dev, libspdlog-dev, libfmt-dev, libhowardhinnant-date-dev, uuid-dev, \
libnats-dev (>= 3.4), libcpp-httplib-dev, libssl-dev (>= 3), pkg-config")

set(CPACK_DEBIAN_CLI_PACKAGE_NAME perdure)
set(CPACK_DEBIAN_CLI_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_CLI_DESCRIPTION "Command-line client of Perdure nodes' management API
Starts, inspects, waits for and manages the instances and schedules of a Perdure node over HTTP.")
set(CPACK_DEBIAN_CLI_PACKAGE_SHLIBDEPS ON)  # its shared libraries (fmt, cpp-httplib) from dpkg-shlibdeps
include(CPack)
