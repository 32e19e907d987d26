// How a host takes part in schedules (include/perdure/schedule.hpp).
#pragma once

#include <perdure/client.hpp>
#include <perdure/registry.hpp>

#include <functional>

namespace perdure {

/// Registers the schedule orchestration and its activity on a host's registry. The
/// cancel_previous policy terminates runs through `hub()`, the host's client (called only while the
/// host runs); a run that has already ended or been purged counts as terminated.
void register_schedules(registry& functions, std::function<client&()> hub);

}  // namespace perdure
