#include "running_attempts.hpp"

namespace perdure::actors {

std::stop_token running_attempts::enter(const partition::attempt_ref& attempt) {
  std::lock_guard lock{mutex_};
  auto& entry = running_[attempt];
  ++entry.runs;
  return entry.stop.get_token();
}

void running_attempts::leave(const partition::attempt_ref& attempt) {
  std::lock_guard lock{mutex_};
  auto it = running_.find(attempt);
  if (it != running_.end() && --it->second.runs == 0) running_.erase(it);
}

void running_attempts::cancel(const partition::cancel_activities& cancels) {
  std::lock_guard lock{mutex_};
  for (const auto& attempt : cancels.timed_out)
    if (auto it = running_.find(attempt); it != running_.end()) it->second.stop.request_stop();
  for (const auto& instance_id : cancels.ended_instances)
    for (auto it = running_.lower_bound(partition::attempt_ref{instance_id, {}, -1});
         it != running_.end() && it->first.instance_id == instance_id; ++it)
      it->second.stop.request_stop();
}

}  // namespace perdure::actors
