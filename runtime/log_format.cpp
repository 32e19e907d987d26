#include "log_format.hpp"

#include <perdure/detail/log_context.hpp>

#include <fmt/chrono.h>
#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace perdure {

namespace {

// `%*` in the text pattern: " [instance <id> trace <id>]" on a line written within a log scope.
class context_flag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    const auto* context = detail::current_log_context();
    if (context == nullptr) return;
    const auto text = context->trace_id.empty()
                          ? fmt::format(" [instance {}]", context->instance_id)
                          : fmt::format(" [instance {} trace {}]", context->instance_id, context->trace_id);
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<context_flag>(); }
};

class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto since_epoch = std::chrono::duration_cast<std::chrono::microseconds>(msg.time.time_since_epoch());
    const auto seconds = std::chrono::floor<std::chrono::seconds>(since_epoch);
    nlohmann::json line{
        {"time", fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", std::chrono::sys_seconds{seconds},
                             (since_epoch - seconds).count())},
        {"level", std::string_view{spdlog::level::to_string_view(msg.level).data(),
                                   spdlog::level::to_string_view(msg.level).size()}},
        {"message", std::string_view{msg.payload.data(), msg.payload.size()}}};
    if (const auto* context = detail::current_log_context()) {
      line["instance_id"] = context->instance_id;
      if (!context->trace_id.empty()) line["trace_id"] = context->trace_id;
    }
    if (msg.logger_name.size() > 0) line["logger"] = std::string_view{msg.logger_name.data(), msg.logger_name.size()};
    line["thread"] = msg.thread_id;
    const auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<json_formatter>(); }
};

}  // namespace

std::optional<std::string> log_format_problem(std::string_view format) {
  if (format == "text" || format == "json") return std::nullopt;
  return "--log-format must be text or json, not '" + std::string{format} + "'";
}

void use_log_format(std::string_view format) {
  if (format == "json") {
    spdlog::set_formatter(std::make_unique<json_formatter>());
    return;
  }
  // spdlog's default line, with the instance and trace it is about.
  auto text = std::make_unique<spdlog::pattern_formatter>();
  text->add_flag<context_flag>('*').set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v%*");
  spdlog::set_formatter(std::move(text));
}

}  // namespace perdure
