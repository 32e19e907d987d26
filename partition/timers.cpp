#include "timers.hpp"

namespace perdure::partition {

namespace {
constexpr size_t timers_per_scan = 1024;
// The earliest timer may be one that is queued right now (its removal not yet committed): look
// again shortly rather than spin.
constexpr auto look_again = std::chrono::milliseconds(10);
}  // namespace

std::vector<storage::timer_entry> timer_schedule::take_due(const storage::hub_store& store, time_point now,
                                                           bool& more) {
  armed_.reset();
  auto due = store.timers(partition_, now, timers_per_scan);
  more = due.size() == timers_per_scan;
  std::vector<storage::timer_entry> taken;
  for (auto& timer : due)
    if (queued_.emplace(timer.instance_id, timer.timer_id, timer.fire_at).second) taken.push_back(std::move(timer));
  return taken;
}

void timer_schedule::removed(const storage::timer_entry& timer) {
  queued_.erase({timer.instance_id, timer.timer_id, timer.fire_at});
}

std::optional<time_point> timer_schedule::wake_up(const storage::hub_store& store, time_point now,
                                                  std::optional<time_point> deadline) {
  auto next = store.next_timer(partition_);
  if (next && !queued_.empty() && *next <= now) *next = now + look_again;
  if (deadline && (!next || *deadline < *next)) next = deadline;
  if (!next) return std::nullopt;
  return wake_up_at(*next);
}

std::optional<time_point> timer_schedule::wake_up_at(time_point at) {
  if (armed_ && *armed_ <= at) return std::nullopt;
  armed_ = at;
  return at;
}

}  // namespace perdure::partition
