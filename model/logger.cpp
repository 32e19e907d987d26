#include <perdure/detail/log_context.hpp>
#include <perdure/logger.hpp>

#include <spdlog/spdlog.h>

namespace perdure {

namespace {
log_sink& sink() {
  static log_sink current;
  return current;
}
}  // namespace

const char* to_string(log_level level) noexcept {
  switch (level) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warning: return "warn";  // the node's --log-level word, as spdlog's
    case log_level::error: return "error";
  }
  return "info";
}

void set_log_sink(log_sink s) { sink() = std::move(s); }

namespace detail {

namespace {
thread_local const log_context* innermost = nullptr;
}  // namespace

const log_context* current_log_context() noexcept { return innermost; }

log_scope::log_scope(std::string_view instance_id, std::string_view trace_id)
    : context_{std::string{instance_id}, std::string{trace_id}}, outer_(innermost) {
  innermost = &context_;
}

log_scope::~log_scope() { innermost = outer_; }

void write_log(log_level level, std::string_view instance_id, std::string_view message) {
  if (auto& s = sink()) {
    s(level, instance_id, message);
    return;
  }
  // Through the node's logger, so --log-level filters these lines too and they look like the rest.
  static constexpr spdlog::level::level_enum levels[] = {spdlog::level::debug, spdlog::level::info,
                                                         spdlog::level::warn, spdlog::level::err};
  spdlog::log(levels[static_cast<size_t>(level)], "instance '{}': {}", instance_id, message);
}
}  // namespace detail

}  // namespace perdure
