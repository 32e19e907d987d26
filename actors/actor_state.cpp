#include "actor_state.hpp"

#include <caf/actor_system.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message.hpp>
#include <spdlog/spdlog.h>

namespace perdure::actors {
namespace {

caf::result<caf::message> log_and_drop(caf::scheduled_actor* self, caf::message_view& message) {
  constexpr size_t shown = 300;
  auto text = message.content().stringify();
  if (text.size() > shown) text = text.substr(0, shown) + "...";
  spdlog::error("{} (actor {}) dropped a message it has no handler for: {}", self->name(), self->id(), text);
  const auto* element = self->current_mailbox_element();
  if (element != nullptr && element->mid.is_request()) return caf::sec::unexpected_message;  // the requester learns why
  // An error sent back to a one-way sender arrives there as an error message, which would make it quit.
  return caf::delegated<caf::message>{};
}

void log_error(caf::scheduled_actor* self, caf::error& err) {
  spdlog::error("{} (actor {}) got an error nobody asked for: {}", self->name(), self->id(), self->system().render(err));
}

}  // namespace

void keep_running_on_unexpected(caf::scheduled_actor* self) {
  self->set_default_handler(log_and_drop);
  self->set_error_handler(log_error);
}

}  // namespace perdure::actors
