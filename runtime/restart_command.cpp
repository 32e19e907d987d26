#include "restart_command.hpp"

#include <perdure/errors.hpp>

namespace perdure {

events::execution_restarted restart_command(const restart_options& options) {
  if (options.from_event < 0)
    throw invalid_argument_error("restart from event " + std::to_string(options.from_event) +
                                 ": a position in the history is 0 or more");
  if (options.version && *options.version < 0)
    throw invalid_argument_error("version must be a whole number from 0 (0 = unversioned), not " +
                                 std::to_string(*options.version));
  return events::execution_restarted{{}, options.from_event,
                                     options.version.value_or(events::execution_started::any_version)};
}

}  // namespace perdure
