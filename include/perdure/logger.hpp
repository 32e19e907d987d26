// The replay-safe orchestration logger's sink. orchestration_context::log writes here only when
// the orchestration is not replaying, so each line appears once, not once per replay.
#pragma once

#include <functional>
#include <string_view>

namespace perdure {

enum class log_level : uint8_t { debug, info, warning, error };

const char* to_string(log_level level) noexcept;

using log_sink = std::function<void(log_level, std::string_view instance_id, std::string_view message)>;

/// Replaces the sink (default: spdlog's default logger, which the node's --log-level filters). Set it at startup, before orchestrations run:
/// the sink is shared by all threads and is not synchronized. An empty function restores the default.
void set_log_sink(log_sink sink);

namespace detail {
void write_log(log_level level, std::string_view instance_id, std::string_view message);
}

}  // namespace perdure
