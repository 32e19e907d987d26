#include "heartbeat_throttle.hpp"

#include "protocol.hpp"

#include <caf/all.hpp>

#include <utility>

namespace perdure::actors {

heartbeat_throttle::heartbeat_throttle(caf::actor partition, const storage::activity_task& task, duration interval)
    : partition_(std::move(partition)),
      instance_id_(task.instance_id),
      execution_id_(task.execution_id),
      task_id_(task.task_id),
      interval_(interval) {}

void heartbeat_throttle::started() {
  std::lock_guard lock{mutex_};
  send({});
}

std::optional<heartbeat_throttle::duration> heartbeat_throttle::beat(const std::string& details) {
  std::lock_guard lock{mutex_};
  const auto now = std::chrono::steady_clock::now();
  if (!sent_any_ || now - last_sent_ >= interval_) {
    sent_any_ = true;
    last_sent_ = now;
    trailing_.reset();
    send(details);
    return std::nullopt;
  }
  trailing_ = details;
  if (flush_scheduled_) return std::nullopt;
  flush_scheduled_ = true;
  return last_sent_ + interval_ - now;
}

void heartbeat_throttle::flush() {
  std::lock_guard lock{mutex_};
  flush_scheduled_ = false;
  if (!trailing_) return;
  last_sent_ = std::chrono::steady_clock::now();
  send(*trailing_);
  trailing_.reset();
}

// A send is an enqueue into the receiver's mailbox: under the mutex, heartbeats arrive in order.
void heartbeat_throttle::send(const std::string& details) {
  caf::anon_send(partition_, heartbeat_atom::value, instance_id_, execution_id_, task_id_, details);
}

}  // namespace perdure::actors
