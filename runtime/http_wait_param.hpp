// How long a request asks the management API to wait for its instance to end: the query parameter
// waitForCompletion (30s, 1500ms, 2m, 1.5s; a bare number is seconds) or the header
// `Prefer: wait=<seconds>` (RFC 7240); the query parameter wins when both are given.
#pragma once

#include "http_server.hpp"

#include <chrono>
#include <optional>
#include <string_view>

namespace perdure {

/// The longest wait one request may ask for; a longer wait is refused (a client waits longer by
/// asking again, as the CLI's `wait` does).
inline constexpr std::chrono::seconds max_request_wait{300};

/// "30s", "1500ms", "2m", "1.5s" or "30" (seconds); nullopt when the text is not such a duration.
std::optional<std::chrono::milliseconds> parse_wait_duration(std::string_view text);

/// The wait a request asks for; nullopt when it asks for none (absent, or zero: answer at once).
/// Throws http_error 400 InvalidArgument for a negative wait, one that is not a duration, or one
/// above max_request_wait.
std::optional<std::chrono::milliseconds> requested_wait(const http::request& req);

}  // namespace perdure
