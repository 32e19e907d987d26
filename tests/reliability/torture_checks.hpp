// The torture test's checks of finished instances: oracle status and output, exactly one result
// per scheduled task, timers fired at most once (exactly once when due before the end), no event
// applied twice, and a clean replay of every history.
#pragma once

#include "torture_program.hpp"

#include <perdure/client.hpp>
#include <perdure/registry.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace perdure::torture {

struct figures {
  uint64_t instances = 0;
  uint64_t sub_instances = 0;
  uint64_t tasks = 0;    // scheduled activities and sub-orchestrations, each with one result
  uint64_t timers = 0;
  uint64_t events = 0;   // external events received
  uint64_t replays = 0;
  uint64_t completed = 0, failed = 0, terminated = 0;
  std::vector<std::string> problems;
};

/// Checks one finished top-level instance against its plan, then its sub-orchestrations.
void check_instance(client& c, const registry& functions, const instance_plan& plan, figures& out);

/// Checks one history against its final record (no oracle); returns the sub-orchestration ids.
std::vector<std::string> check_history(const instance_record& record, const history& events,
                                       const registry& functions, figures& out);

}  // namespace perdure::torture
