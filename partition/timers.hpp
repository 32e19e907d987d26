// A partition's durable timers, as the state machine sees them: which are due, which are already
// queued as messages (their removal not yet committed, so a re-scan must skip them), and when the
// shell's one wake-up should come.
#pragma once

#include <perdure/storage/store.hpp>

#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace perdure::partition {

class timer_schedule {
 public:
  explicit timer_schedule(uint32_t partition) : partition_(partition) {}

  /// The wake-up came: timers due by `now` that are not already queued, now marked queued.
  /// `more` is set when the scan stopped at its bound.
  std::vector<storage::timer_entry> take_due(const storage::hub_store& store, time_point now, bool& more);
  /// A timer's removal is durable (it fired, or its instance is gone).
  void removed(const storage::timer_entry& timer);
  /// When to wake up next (for the next timer, or `deadline` if that is earlier), if that is
  /// earlier than the wake-up already asked for.
  std::optional<time_point> wake_up(const storage::hub_store& store, time_point now,
                                    std::optional<time_point> deadline);
  std::optional<time_point> wake_up_at(time_point at);

 private:
  using timer_key = std::tuple<std::string, int32_t, time_point>;
  uint32_t partition_;
  std::optional<time_point> armed_;
  std::set<timer_key> queued_;
};

}  // namespace perdure::partition
