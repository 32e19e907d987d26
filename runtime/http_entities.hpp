// The management API's entity routes (docs/http-api.md, "Entities"): signal, read, list and delete
// durable entities through the client.
#pragma once

#include "http_server.hpp"

#include <perdure/client.hpp>

#include <optional>

namespace perdure {

/// Serves `req` if its path is under /api/entities; nullopt for any other path. Throws what the
/// client throws, and http_error for a bad request, as the other routes do.
std::optional<http::response> route_entities(const http::request& req, client& hub);

}  // namespace perdure
