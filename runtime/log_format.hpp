// The node's log line format (--log-format): `text`, spdlog's usual line followed by the instance
// and trace the line is about when it has them, or `json`, one JSON object per line (time, level,
// message, and instance_id and trace_id when the line has them). See docs/tracing.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace perdure {

/// Why `format` is not a log format the node knows; nullopt when it is (text, json).
std::optional<std::string> log_format_problem(std::string_view format);

/// Formats every line of spdlog's loggers this way from now on.
void use_log_format(std::string_view format);

}  // namespace perdure
