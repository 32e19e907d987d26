// The heartbeats of one running attempt on their way to its partition: at most one per interval
// (half the heartbeat timeout) goes out. One that comes within an interval is not lost: its details
// (the latest by then) go out as the trailing heartbeat at the interval's end, as Temporal's SDK
// does; otherwise an attempt that heartbeats and then blocks would leave older details in its
// partition, which its timeout failure and next attempt would see.
//
// Concurrency: beat() runs on the worker's thread (busy running the activity), flush() on the
// pool dispatcher's, at the time beat() asked for. One mutex orders them, and their sends, so a
// trailing heartbeat never overtakes a newer one.
#pragma once

#include <perdure/storage/store.hpp>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace perdure::actors {

class heartbeat_throttle {
 public:
  using duration = std::chrono::steady_clock::duration;

  /// `partition`: where the attempt's heartbeats go (its partition, or a lease's result relay).
  heartbeat_throttle(caf::actor partition, const storage::activity_task& task, duration interval);

  /// The attempt's start: a heartbeat, which does not count against the interval.
  void started();
  /// A heartbeat from the activity: sent now if the interval since the last one has passed;
  /// otherwise kept as the trailing one. Returns the delay after which flush() must run, when the
  /// trailing heartbeat is new in this interval.
  std::optional<duration> beat(const std::string& details);
  /// The interval's end: sends the trailing heartbeat, if one is still due.
  void flush();

 private:
  void send(const std::string& details);

  std::mutex mutex_;
  caf::actor partition_;
  std::string instance_id_;
  std::string execution_id_;
  int32_t task_id_;
  duration interval_;
  std::chrono::steady_clock::time_point last_sent_{};
  bool sent_any_ = false;
  std::optional<std::string> trailing_;
  bool flush_scheduled_ = false;
};

}  // namespace perdure::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<perdure::actors::heartbeat_throttle>)
