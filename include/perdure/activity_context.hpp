// What an activity knows about its call.
//
// Activities run at least once: after a restart, or when a node holding it is lost, an activity is
// run again with the same context. A call with a retry_policy is retried by the orchestration:
// each attempt is a new task (a new task id) with the next attempt number. Task ids count from 0
// in every execution, so they repeat after continue-as-new; idempotency_key() does not.
#pragma once

#include <cstdint>
#include <string>

namespace perdure {

class activity_context {
 public:
  /// `first_task_id` is the task id of the call's first attempt, -1 when this is the first attempt.
  activity_context(std::string instance_id, int32_t task_id, std::string name, std::string execution_id = {},
                   int32_t attempt = 1, int32_t first_task_id = -1)
      : instance_id_(std::move(instance_id)),
        execution_id_(std::move(execution_id)),
        task_id_(task_id),
        name_(std::move(name)),
        attempt_(attempt),
        first_task_id_(first_task_id < 0 ? task_id : first_task_id) {}

  const std::string& instance_id() const noexcept { return instance_id_; }
  /// The execution of the instance that called: a new one after each continue-as-new.
  const std::string& execution_id() const noexcept { return execution_id_; }
  /// Unique within an execution; a retry of the call is a new task.
  int32_t task_id() const noexcept { return task_id_; }
  const std::string& name() const noexcept { return name_; }
  /// 1 for the first attempt of the call, n for its n-th (the retry_policy's retries); a run again
  /// of the same attempt after a restart has the same number.
  int32_t attempt() const noexcept { return attempt_; }

  /// "<instance id>/<execution id>/<task id of the call's first attempt>": the same for every run
  /// and every attempt of one call, different for every other call the instance makes in its whole
  /// life (continue-as-new included; a purged instance started again has new execution ids). Pass
  /// it to the systems the activity changes so they apply the call once.
  std::string idempotency_key() const {
    return instance_id_ + "/" + execution_id_ + "/" + std::to_string(first_task_id_);
  }

 private:
  std::string instance_id_;
  std::string execution_id_;
  int32_t task_id_;
  std::string name_;
  int32_t attempt_;
  int32_t first_task_id_;
};

}  // namespace perdure
