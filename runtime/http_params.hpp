// Query parameters the management API reads in several routes: the instance filters (list, purge,
// replay-check and the web view's counts read them alike), flags and whole numbers. Each throws
// http_error 400 InvalidArgument naming the parameter and what it must be.
#pragma once

#include "http_server.hpp"

#include <perdure/query.hpp>

#include <cstdint>
#include <optional>

namespace perdure {

/// true/1 or false/0; `fallback` when absent.
bool flag_param(const http::request& req, const char* name, bool fallback);

/// A whole number from 0; nullopt when absent. `meaning` completes the error message.
std::optional<int32_t> whole_number_param(const http::request& req, const char* name, const char* meaning);

/// An orchestration version (`version`): a whole number from 0 (unversioned).
std::optional<int32_t> version_param(const http::request& req);

/// runtimeStatus, name, createdTimeFrom, createdTimeTo, instanceIdPrefix, version and
/// waitingForVersion into `q`; says whether any was given.
bool read_instance_filters(const http::request& req, instance_query& q);

}  // namespace perdure
