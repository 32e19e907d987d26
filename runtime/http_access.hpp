// Who may do what on the management API: the one place that decides which role a request needs,
// and the 401/403 refusals. The server asks it with a request's head, before the body is read, so
// a caller without a valid token cannot make the node read a body either.
//
// The rule (docs/security.md): GET /api/health and the web view's static files (/ui) are open;
// every other GET or HEAD reads (role `read`, which `admin` includes); every other method changes
// something (role `admin`). Deciding by method rather than by route means a route added later is
// covered without an edit here: every route that changes state is a POST, PUT or DELETE.
#pragma once

#include "api_tokens.hpp"
#include "http_server.hpp"

#include <memory>
#include <optional>

namespace perdure {

enum class required_access { open, read, admin };

required_access access_needed(const http::request& head);

/// nullopt when `head` may proceed; otherwise 401 (no token, or an unknown one, with
/// WWW-Authenticate: Bearer) or 403 (a read token on a request that changes something).
std::optional<http::response> refuse_access(const http::request& head, const api_tokens& tokens);

}  // namespace perdure
