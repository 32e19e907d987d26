// GET /api/instance-counts: how many instances match the list filters, by runtime status, for the
// web view's status filter (docs/http-api.md, "Instance counts").
#pragma once

#include "http_server.hpp"

#include <perdure/client.hpp>

namespace perdure {

/// Counts by paging through the instance index: O(matching instances), up to a bound past which
/// the answer says it is incomplete rather than keep the worker for long.
http::response instance_counts_response(const http::request& req, client& hub);

}  // namespace perdure
