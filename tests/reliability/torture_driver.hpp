// The torture test's driver: starts the instances of a seed, then acts on them from outside
// (raises their events, suspends and resumes, terminates the ones that wait forever) pass after
// pass until they finish. Every action is safe to repeat after a crash of the node (or of the
// driver): it starts only instances that do not exist, and raises an event only when the current
// execution's history does not hold it yet. A client error on one instance (its node is down, say)
// is counted and that instance is looked at again in the next pass.
#pragma once

#include "torture_program.hpp"

#include <perdure/client.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace perdure::torture {

struct driven {
  instance_plan plan;
  bool finished = false;
  bool suspended_once = false;
  int events_raised_round = -1;
};

/// The plans of instances 0..n-1 of the seed.
std::vector<driven> plan_run(uint64_t seed, int n);

/// Starts every instance that does not exist yet, from a few threads; returns how many it could
/// not start (a client error: try again). Like drive(), throws timeout_error when a call got no
/// answer in time, once the calls under way have ended.
size_t start_all(client& c, std::vector<driven>& all);

/// The client errors a driver tolerated: how many, and the first few.
struct tolerated_errors {
  std::atomic<uint64_t> count{0};
  std::mutex mutex;
  std::vector<std::string> first;
  void add(const std::string& what);
};

/// One pass over the unfinished instances; returns how many are still unfinished (or could not be
/// looked at). Throws timeout_error when a call got no answer in time.
size_t drive(client& c, std::vector<driven>& all, int pass, tolerated_errors& errors);

/// What an instance is doing (its status and history in short), for a report.
std::string describe(client& c, const instance_plan& plan);

}  // namespace perdure::torture
