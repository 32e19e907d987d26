// The web view of the management API (docs/ui.md): GET /ui (and /ui/) serves the page, GET
// /ui/<file> its scripts and style, all embedded in the binary (runtime/ui_files.hpp); plus the
// one piece of data the page needs that the rest of the API lacks, GET /api/instance-counts.
#pragma once

#include "http_server.hpp"

#include <perdure/client.hpp>

#include <optional>

namespace perdure {

/// Serves `req` if it is a route of the web view; nullopt for any other. Throws what the client
/// throws, and http_error for a bad request, as the other routes do.
std::optional<http::response> route_ui(const http::request& req, client& hub);

}  // namespace perdure
