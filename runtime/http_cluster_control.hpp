// The management API's routes that change a replicated hub (docs/http-api.md, "Cluster"):
// POST /api/cluster/members/{node}/drain, .../activate, .../remove, POST /api/cluster/partitions/{p}/move
// with {"node": "d"}, .../unpin.
#pragma once

#include "cluster_control.hpp"
#include "http_server.hpp"

#include <optional>

namespace perdure {

/// Serves `req` if it is one of the routes above; nullopt for any other. `control` is null on a
/// node that is not in a replicated hub: the routes answer 409. Throws what cluster_control
/// throws, and http_error for a bad request.
std::optional<http::response> route_cluster_control(const http::request& req, cluster_control* control);

}  // namespace perdure
