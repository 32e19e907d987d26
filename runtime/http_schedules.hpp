// The management API's schedule routes (docs/http-api.md, "Schedules"): /api/schedules and
// /api/schedules/{id}[/pause|/resume|/trigger], on top of schedule_client.
#pragma once

#include "http_server.hpp"

#include <perdure/client.hpp>

#include <optional>

namespace perdure {

/// Serves `req` if its path is under /api/schedules; nullopt for any other path. Throws what the
/// client throws, and http_error for a bad request, as the other routes do.
std::optional<http::response> route_schedules(const http::request& req, client& hub);

}  // namespace perdure
