#include "protocol.hpp"

#include <perdure/errors.hpp>

#include <caf/all.hpp>

namespace perdure::actors {

namespace {
std::string context_text(const caf::error& err) {
  if (err.context().match_elements<std::string>()) return err.context().get_as<std::string>(0);
  return caf::to_string(err);
}
}  // namespace

void throw_client_error(const caf::error& err, const std::string& instance_id) {
  if (err.category() != caf::atom("perdure")) {
    if (err == caf::sec::request_timeout) throw timeout_error("timed out waiting for instance '" + instance_id + "'");
    throw error("node error: " + caf::to_string(err));
  }
  auto text = context_text(err);
  switch (static_cast<client_errc>(err.code())) {
    case client_errc::not_found: throw instance_not_found(instance_id);
    case client_errc::already_exists: throw instance_already_exists(instance_id);
    case client_errc::invalid_argument: throw invalid_argument_error(text);
    case client_errc::unknown_function: throw unknown_function_error(text);
    case client_errc::unavailable: throw error(text);
  }
  throw error(text);
}

void register_types(caf::actor_system_config& cfg) {
  cfg.add_error_category(caf::atom("perdure"), [](uint8_t code, caf::atom_value, const caf::message& context) -> std::string {
    std::string text = context.match_elements<std::string>() ? context.get_as<std::string>(0) : std::string{};
    return "perdure error " + std::to_string(code) + ": " + text;
  });
}

}  // namespace perdure::actors
