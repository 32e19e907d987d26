// What an activity knows about its call. Activities run at least once: a retried or re-dispatched
// call sees the same instance id and task id, which makes them usable as an idempotency key.
#pragma once

#include <cstdint>
#include <string>

namespace perdure {

class activity_context {
 public:
  activity_context(std::string instance_id, int32_t task_id, std::string name)
      : instance_id_(std::move(instance_id)), task_id_(task_id), name_(std::move(name)) {}

  const std::string& instance_id() const noexcept { return instance_id_; }
  int32_t task_id() const noexcept { return task_id_; }
  const std::string& name() const noexcept { return name_; }

 private:
  std::string instance_id_;
  int32_t task_id_;
  std::string name_;
};

}  // namespace perdure
