// Shadow replay: replays the histories of a hub's instances against the code of this binary and
// reports every instance whose history the code no longer matches, without changing anything
// (docs/programming-model.md, "Changing code under running instances"). Run it with the code
// about to be deployed, against production's histories, before that code takes traffic.
#pragma once

#include <perdure/client.hpp>
#include <perdure/query.hpp>
#include <perdure/registry.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace perdure {

/// An instance whose history the code no longer replays: where, and both sides (as
/// nondeterminism_error gives them).
struct replay_mismatch {
  std::string instance_id;
  std::string name;
  int32_t version = 0;
  size_t position = 0;     // index of the history event that differs
  std::string in_history;  // what the history holds there
  std::string in_code;     // what the code did instead
};

/// An instance whose orchestration (name, or name and version) this binary does not register: it
/// cannot be checked here, and a node running this code would leave it waiting, not fail it.
struct replay_not_registered {
  std::string instance_id;
  std::string name;
  int32_t version = 0;
  std::string reason;
};

struct replay_check_report {
  size_t checked = 0;  // instances whose history was replayed (matching or not)
  std::vector<replay_mismatch> mismatches;
  std::vector<replay_not_registered> not_registered;
  bool passed() const noexcept { return mismatches.empty(); }
};

/// What replay_check looks at unless told otherwise: the instances that run (Running, Suspended),
/// whose histories the new code will have to continue.
instance_query instances_to_replay_check();

/// Replays the history of every instance `filter` matches (following its pages, across the nodes
/// of a cluster when `hub` is a cluster's client) against `functions`. Reads only: no instance is
/// changed. Throws what hub.list and hub.history throw (unavailable_error while a node holding
/// some of them is down: the check would be incomplete).
replay_check_report replay_check(client& hub, const registry& functions,
                                 instance_query filter = instances_to_replay_check());

}  // namespace perdure
