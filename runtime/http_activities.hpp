// The management API's activity routes (docs/http-api.md, "Activities"): complete or fail an
// activity attempt that awaits completion by its task token (activity_context::complete_asynchronously).
#pragma once

#include "http_server.hpp"

#include <perdure/client.hpp>

#include <optional>

namespace perdure {

/// Serves `req` if its path is under /api/activities; nullopt for any other path. Throws what the
/// client throws, and http_error for a bad request, as the other routes do.
std::optional<http::response> route_activities(const http::request& req, client& hub);

}  // namespace perdure
