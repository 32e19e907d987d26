#include <perdure/logger.hpp>

#include <cstdio>
#include <string>

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
    case log_level::warning: return "warning";
    case log_level::error: return "error";
  }
  return "info";
}

void set_log_sink(log_sink s) { sink() = std::move(s); }

namespace detail {
void write_log(log_level level, std::string_view instance_id, std::string_view message) {
  if (auto& s = sink()) {
    s(level, instance_id, message);
    return;
  }
  std::string line = std::string("[perdure] ") + to_string(level) + " " + std::string(instance_id) +
                     ": " + std::string(message) + "\n";
  std::fputs(line.c_str(), stderr);
}
}  // namespace detail

}  // namespace perdure
