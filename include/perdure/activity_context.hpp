// What an activity knows about its call.
//
// Activities run at least once: after a restart, or when a node holding it is lost, an activity is
// run again with the same context. A call with a retry_policy is retried by the orchestration:
// each attempt is a new task (a new task id) with the next attempt number. Task ids count from 0
// in every execution, so they repeat after continue-as-new; idempotency_key() does not.
//
// Concurrency: an activity_context belongs to the thread that runs its attempt; cancelled() may
// turn true at any time from another thread.
#pragma once

#include <perdure/codec.hpp>
#include <perdure/error_code.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>

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

  /// Records progress (as Temporal's RecordHeartbeat): the attempt is alive, which restarts its
  /// heartbeat timeout (activity_options), and `details` is what a later attempt of the call reads
  /// from heartbeat_details(), to resume where this one stopped. Heartbeats reach the partition at
  /// most every half heartbeat timeout; of the ones between, the latest goes out at the interval's
  /// end, and the last details also travel with the attempt's failure.
  template <class T>
  void heartbeat(const T& details) {
    heartbeat_raw(encode_payload(details));
  }
  void heartbeat() { heartbeat_raw({}); }
  /// The call's last heartbeat details: this attempt's latest, else the last one its earlier
  /// attempts recorded; nullopt when there is none.
  template <class T>
  std::optional<T> heartbeat_details() const {
    if (heartbeat_details_.empty()) return std::nullopt;
    return codec<T>::decode(heartbeat_details_);
  }
  const std::string& heartbeat_details_json() const noexcept { return heartbeat_details_; }

  /// True once nobody needs the result: the instance ended (terminated, failed, completed) or the
  /// attempt timed out, wherever the attempt runs (on a cluster, the node it was leased to is told).
  /// A long activity should check it and stop early (throwing or returning anything: the result is
  /// dropped). An attempt cancelled while it waited for a worker is not started at all.
  bool cancelled() const noexcept { return stop_.stop_requested(); }
  /// The same as a std::stop_token, for std::stop_callback or std::condition_variable_any waits.
  std::stop_token stop_token() const noexcept { return stop_; }

  /// Async completion (as Temporal's async activity completion, Restate's awakeables): the attempt
  /// does not end when the activity returns; its value is ignored and the attempt stays open,
  /// durably (a restart does not run it again), until an external system completes or fails it
  /// with the returned task token: client::complete_activity / fail_activity, HTTP
  /// `POST /api/activities/{token}/complete|fail`, or `perdure activity complete|fail`. Its
  /// timeouts still apply; that system heartbeats it with the token (client::heartbeat_activity).
  /// Hand the token to that system before returning; an exception the
  /// activity throws after the call still fails the attempt as usual. The token is opaque: pass it
  /// on as it is.
  std::string complete_asynchronously() {
    if (task_token_.empty())
      throw error("complete_asynchronously() needs an attempt run by a node or orchestration_tester");
    completes_asynchronously_ = true;
    return task_token_;
  }
  /// True once complete_asynchronously() was called.
  bool completes_asynchronously() const noexcept { return completes_asynchronously_; }

  /// The W3C `traceparent` of this attempt's span (docs/tracing.md): pass it on in the calls the
  /// activity makes (an HTTP `traceparent` header, an OpenTelemetry SDK's propagator) and their
  /// spans become children of the attempt's. Empty when the instance has no trace context (one
  /// started before tracing existed) or the runner keeps none.
  const std::string& traceparent() const noexcept { return traceparent_; }

  /// How the runner of the attempt (the node's worker, orchestration_tester) connects it: where
  /// heartbeats go, the attempt's stop token, the earlier attempts' last heartbeat details, and the
  /// attempt's task token, and the traceparent of the attempt's span.
  void connect(std::function<void(const std::string& details)> heartbeat_sink, std::stop_token stop,
               std::string earlier_heartbeat_details, std::string task_token, std::string traceparent = {}) {
    heartbeat_sink_ = std::move(heartbeat_sink);
    stop_ = std::move(stop);
    heartbeat_details_ = std::move(earlier_heartbeat_details);
    task_token_ = std::move(task_token);
    traceparent_ = std::move(traceparent);
  }

 private:
  void heartbeat_raw(std::string details) {
    if (!details.empty()) heartbeat_details_ = details;
    if (heartbeat_sink_) heartbeat_sink_(heartbeat_details_);
  }

  std::string instance_id_;
  std::string execution_id_;
  int32_t task_id_;
  std::string name_;
  int32_t attempt_;
  int32_t first_task_id_;
  std::string heartbeat_details_;
  std::function<void(const std::string&)> heartbeat_sink_;
  std::stop_token stop_;
  std::string task_token_;
  std::string traceparent_;
  bool completes_asynchronously_ = false;
};

}  // namespace perdure
