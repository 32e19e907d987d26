# Third-party dependencies, all from Debian 12 packages (scripts/install-deps.sh installs them).
find_package(Threads REQUIRED)

# CAF 0.17.6 ships no CMake config: cmake/FindCAF.cmake, installed with Perdure's CMake package.
list(APPEND CMAKE_MODULE_PATH "${CMAKE_CURRENT_LIST_DIR}")
find_package(CAF 0.17.6 EXACT REQUIRED)

find_package(RocksDB 7.8 CONFIG REQUIRED)      # RocksDB::rocksdb-shared
find_package(CapnProto 0.9 CONFIG REQUIRED)    # CapnProto::capnp, capnp_generate_cpp()
find_package(nlohmann_json 3.11 CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)             # fmt::fmt (spdlog's formatting library)
find_package(date CONFIG REQUIRED)            # date::date-tz (libhowardhinnant-date-dev): schedules' time zones
find_package(PkgConfig REQUIRED)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)  # the HTTP client of the CLI and tests
pkg_check_modules(UUID REQUIRED IMPORTED_TARGET uuid)  # libuuid (util-linux): the version-5 ids of new_uuid()
# Boost.Beast and Asio (header-only): the management API's server (runtime/http_server.cpp).
find_package(Boost 1.74 REQUIRED)
# OpenSSL (libssl-dev): the management API's HTTPS (Asio's ssl), its tokens' digests, the CLI's https://.
find_package(OpenSSL 3 REQUIRED)
# NATS JetStream C client: the replicated partition logs of cluster mode (storage/log/).
# Debian cnats CMake config names a static library the package does not ship: use pkg-config.
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats>=3.4)
if(PERDURE_BUILD_TESTS)
  find_package(doctest 2.4 CONFIG REQUIRED)    # doctest::doctest
endif()
