// The orchestration's window on the world. Everything non-deterministic an orchestration needs
// (time, ids, I/O, waiting) goes through it, so that replaying the history reproduces the run.
//
// Every call that acts (call_activity, call_sub_orchestration, create_timer, send_event,
// call_entity, signal_entity) takes the next number of one per-execution sequence: its task id
// (timers' ids included). The order of these calls is what replay checks against the history.
#pragma once

#include <perdure/codec.hpp>
#include <perdure/combinators.hpp>
#include <perdure/entity.hpp>
#include <perdure/errors.hpp>
#include <perdure/history.hpp>
#include <perdure/logger.hpp>
#include <perdure/retry_policy.hpp>
#include <perdure/task.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace perdure {

namespace detail {
class engine;
}

class orchestration_context;

/// A critical section's hold on entities (orchestration_context::lock_entities). While it is held,
/// operations anyone else sends to those entities wait behind it, in arrival order. It is released
/// by release(), when it is destroyed in the code (the section's scope ends, or an exception leaves
/// it), and always when the execution ends (completes, fails, is terminated or continues as new).
class [[nodiscard]] entity_lock {
 public:
  entity_lock() = default;
  entity_lock(entity_lock&& other) noexcept
      : ctx_(std::exchange(other.ctx_, nullptr)), task_id_(std::exchange(other.task_id_, -1)) {}
  entity_lock& operator=(entity_lock&& other) noexcept;
  ~entity_lock();

  /// Releases the entities (a signal to each, after the operations this section sent them). Once.
  void release();
  bool held() const noexcept { return ctx_ != nullptr; }

 private:
  friend class orchestration_context;
  entity_lock(orchestration_context& ctx, int32_t task_id) noexcept : ctx_(&ctx), task_id_(task_id) {}
  void release_quietly() noexcept;

  orchestration_context* ctx_ = nullptr;
  int32_t task_id_ = -1;
};

/// Per-call options of an activity, as Temporal's activity options. A zero duration is no limit.
///
/// The partition that owns the instance times each attempt out (a deadline kept with the
/// activity in its durable queue, so it holds across restarts): the attempt fails with a
/// task_failed whose error_type is "TimeoutError", which the retry policy sees like any other
/// failure; its result, should it still come, is dropped; and its activity_context::cancelled()
/// turns true so it can stop early.
struct activity_options {
  /// Each attempt's result is due this long after it was scheduled (Perdure dispatches an attempt
  /// when its scheduling commits, so time waiting for a free worker counts).
  std::chrono::nanoseconds start_to_close_timeout{0};
  /// The whole call's result is due this long after its first attempt was scheduled, retries and
  /// backoff included: no retry starts after it, and an attempt running then times out.
  std::chrono::nanoseconds schedule_to_close_timeout{0};
  /// An attempt that goes this long without activity_context::heartbeat() (from its start on a
  /// worker, or its last heartbeat) times out. On a cluster such an attempt runs on its
  /// partition's node, which its heartbeats must reach.
  std::chrono::nanoseconds heartbeat_timeout{0};
  /// Retries after a failed attempt (retry_policy.hpp); none: one attempt.
  std::optional<retry_policy> retry;
};

/// How call_sub_orchestration calls a child. Build it outside a co_await (GCC 12, above).
struct sub_orchestration_options {
  /// Empty: a deterministic id derived from this instance, its execution and the task id.
  std::string instance_id;
  /// The child's registered version (registry.hpp). Unset: the latest registered on the node that
  /// starts it. One that node does not register makes the child wait for it, as any instance does.
  std::optional<int32_t> version;
  /// Retries after a failed child (retry_policy.hpp); none: one attempt.
  std::optional<retry_policy> retry;
};

namespace detail {
template <class Out>
task<Out> retry_loop(orchestration_context& ctx, bool sub, std::string name, std::string input,
                     sub_orchestration_options target, activity_options options);
template <class T>
task<T> wait_with_timeout(orchestration_context& ctx, std::string name,
                          std::chrono::nanoseconds timeout);
std::string encode_failed(const char* what, std::string_view name, const payload_error& e);

/// The options of a call that only retries (the retry_policy overloads).
inline activity_options retrying(const retry_policy& retry) {
  activity_options options;
  options.retry = retry;
  return options;
}

template <class In>
std::string encode_input(const In& input, const char* what, std::string_view name) {
  try {
    return encode_payload(input);
  } catch (const payload_error& e) {
    throw payload_error(encode_failed(what, name, e));
  }
}
}  // namespace detail

class orchestration_context {
 public:
  explicit orchestration_context(detail::engine& engine) noexcept : engine_(engine) {}
  orchestration_context(const orchestration_context&) = delete;
  orchestration_context& operator=(const orchestration_context&) = delete;

  const std::string& name() const noexcept;
  const std::string& instance_id() const noexcept;
  const std::string& execution_id() const noexcept;
  /// The registered version of the orchestration this execution runs (0 = unversioned).
  int32_t version() const noexcept;

  /// The deterministic current time: the timestamp of the episode being processed.
  time_point current_time() const noexcept;
  /// True while the code re-runs events already in the history.
  bool is_replaying() const noexcept;
  /// A deterministic UUID (name-based, v5): the same on every replay.
  std::string new_uuid();
  /// Logs through the sink in logger.hpp, only when not replaying.
  void log(std::string_view message) const { log(log_level::info, message); }
  void log(log_level level, std::string_view message) const;

  // Activities. A failure (after the retries) is thrown at the co_await as perdure::task_failed.
  template <class Out = void>
  task<Out> call_activity(std::string_view name) {
    return detail::leaf_task<Out>(activity_raw(name, {}));
  }
  template <class Out = void, class In>
  task<Out> call_activity(std::string_view name, const In& input) {
    return detail::leaf_task<Out>(activity_raw(name, detail::encode_input(input, "activity", name)));
  }
  template <class Out = void, class In>
  task<Out> call_activity(std::string_view name, const In& input, const retry_policy& retry) {
    return call_activity<Out>(name, input, detail::retrying(retry));
  }
  template <class Out = void, class In>
  task<Out> call_activity(std::string_view name, const In& input, activity_options options) {
    return detail::retry_loop<Out>(*this, false, std::string(name), detail::encode_input(input, "activity", name), {},
                                   std::move(options));
  }

  // Sub-orchestrations. An empty instance id picks a deterministic one derived from this
  // instance, its execution and the task id.
  template <class Out = void>
  task<Out> call_sub_orchestration(std::string_view name) {
    return detail::leaf_task<Out>(sub_orchestration_raw(name, {}, {}));
  }
  template <class Out = void, class In>
  task<Out> call_sub_orchestration(std::string_view name, const In& input,
                                   std::string instance_id = {}) {
    return detail::leaf_task<Out>(sub_orchestration_raw(
        name, std::move(instance_id), detail::encode_input(input, "sub-orchestration", name)));
  }
  template <class Out = void, class In>
  task<Out> call_sub_orchestration(std::string_view name, const In& input, std::string instance_id,
                                   const retry_policy& retry) {
    return detail::retry_loop<Out>(*this, true, std::string(name),
                                   detail::encode_input(input, "sub-orchestration", name),
                                   sub_orchestration_options{std::move(instance_id), std::nullopt, std::nullopt},
                                   detail::retrying(retry));
  }
  /// With options: the child's id, its version (e.g. to keep a child on the version its parent was
  /// written for), retries.
  template <class Out = void, class In>
  task<Out> call_sub_orchestration(std::string_view name, const In& input, sub_orchestration_options options) {
    std::string encoded = detail::encode_input(input, "sub-orchestration", name);
    if (!options.retry)
      return detail::leaf_task<Out>(sub_orchestration_raw(name, std::move(options.instance_id), std::move(encoded),
                                                          options.version));
    const auto retry = *options.retry;
    return detail::retry_loop<Out>(*this, true, std::string(name), std::move(encoded), std::move(options),
                                   detail::retrying(retry));
  }

  // Durable timers.
  task<void> create_timer(time_point fire_at);
  template <class Rep, class Period>
  task<void> create_timer(std::chrono::duration<Rep, Period> delay) {
    return create_timer(current_time() + std::chrono::duration_cast<std::chrono::nanoseconds>(delay));
  }

  /// Waits for the next external event of that name. Events that arrived before the wait are
  /// buffered, first in first out per name.
  template <class T = void>
  task<T> wait_for_event(std::string_view name) {
    return detail::leaf_task<T>(event_raw(name));
  }
  /// The same, throwing perdure::timeout_error at the co_await if no such event arrives within
  /// `timeout` (a durable timer). An event arriving after the timeout stays buffered for the
  /// next wait.
  template <class T = void, class Rep, class Period>
  task<T> wait_for_event(std::string_view name, std::chrono::duration<Rep, Period> timeout) {
    return detail::wait_with_timeout<T>(*this, std::string(name),
                                        std::chrono::duration_cast<std::chrono::nanoseconds>(timeout));
  }

  /// Sends an event to another instance (one-way, delivered after this episode commits).
  void send_event(std::string instance_id, std::string name) {
    send_event_raw(std::move(instance_id), std::move(name), {});
  }
  template <class T>
  void send_event(std::string instance_id, std::string name, const T& payload) {
    std::string text = detail::encode_input(payload, "event", name);
    send_event_raw(std::move(instance_id), std::move(name), std::move(text));
  }

  // Entities (entity.hpp). A call waits for the operation's result (a failure is thrown at the
  // co_await as perdure::task_failed); a signal is one-way. Both leave after this episode commits,
  // and operations this orchestration sends to one entity run in the order it sent them.
  template <class Out = void>
  task<Out> call_entity(const entity_id& entity, std::string_view operation) {
    return detail::leaf_task<Out>(entity_call_raw(entity, operation, {}));
  }
  template <class Out = void, class In>
  task<Out> call_entity(const entity_id& entity, std::string_view operation, const In& input) {
    return detail::leaf_task<Out>(
        entity_call_raw(entity, operation, detail::encode_input(input, "entity operation", operation)));
  }
  void signal_entity(const entity_id& entity, std::string_view operation) { entity_signal_raw(entity, operation, {}); }
  template <class In>
  void signal_entity(const entity_id& entity, std::string_view operation, const In& input) {
    entity_signal_raw(entity, operation, detail::encode_input(input, "entity operation", operation));
  }
  /// A scheduled signal: the entity runs it at `deliver_at` (not before; at once if that has
  /// passed). It waits durably in the entity's partition, whatever happens to this orchestration.
  template <class In>
  void signal_entity(const entity_id& entity, std::string_view operation, const In& input, time_point deliver_at) {
    entity_signal_raw(entity, operation, detail::encode_input(input, "entity operation", operation), deliver_at);
  }

  /// A critical section (Durable Functions' LockAsync): waits until this execution holds every
  /// entity in `entities`, acquired one at a time in one global order (sorted ids), so two
  /// sections never deadlock. The lock is recorded in the history, so a replay holds it again.
  /// Inside the section (docs/programming-model.md, "Critical sections"), refused with
  /// invalid_argument_error:
  /// - a second lock_entities (sections do not nest);
  /// - call_entity to an entity the section does not lock, or to any entity before the lock is held;
  /// - signal_entity to an entity the section locks (call it instead);
  /// - call_sub_orchestration (the child would not hold the lock).
  /// Build the vector before the co_await (GCC 12, above).
  task<entity_lock> lock_entities(std::vector<entity_id> entities);

  /// Ends this execution when the orchestration returns (its return value is dropped) and starts
  /// a new one with `input` and an empty history. With keep_unprocessed_events, external events
  /// received and not consumed are delivered to the new execution. The new execution runs the
  /// latest registered version of this orchestration, or `version` when given (a version that is
  /// not registered makes the new execution wait for a node that has it).
  template <class T>
  void continue_as_new(const T& input, bool keep_unprocessed_events = false,
                       std::optional<int32_t> version = std::nullopt) {
    continue_as_new_raw(detail::encode_input(input, "continue-as-new", name()), keep_unprocessed_events, version);
  }

  /// A change of code inside one version (Temporal's patched()): true when this execution runs
  /// the patched code, false when it replays a history written before the patch. Executing (not
  /// replaying, or past what the history recorded the code doing), it records a PatchMarker in the
  /// history, once, and returns true; replaying, it returns whether the history has that marker. The first answer for an id holds for the rest
  /// of the execution. Write `if (ctx.is_patched("id")) { new code } else { old code }`.
  bool is_patched(std::string_view patch_id);
  /// The cleanup step once no running instance can take the old path (Temporal's
  /// deprecatePatch()): the old branch is gone, and this records the marker when not replaying so
  /// that code still checking is_patched(patch_id) can replay histories this code writes. Never
  /// fails, whether or not a replayed history has the marker. Remove it once no running history
  /// lacks the marker.
  void deprecate_patch(std::string_view patch_id);

  /// Sets the custom status shown by status queries (JSON of `value`).
  template <class T>
  void set_custom_status(const T& value) {
    set_custom_status_raw(detail::encode_input(value, "custom status", name()));
  }

 private:
  template <class Out>
  friend task<Out> detail::retry_loop(orchestration_context& ctx, bool sub, std::string name, std::string input,
                                      sub_orchestration_options target, activity_options options);

  // Untyped forms behind the typed API: payloads are JSON text. A retried activity call passes its
  // attempt number and the task id of its first attempt (-1 on the first), which its
  // activity_context shows, and the last heartbeat of its earlier attempts.
  detail::ref<detail::state_base> activity_raw(std::string_view name, std::string input, int32_t attempt = 1,
                                               int32_t first_task_id = -1, activity_timeouts timeouts = {},
                                               std::string heartbeat_details = {});
  /// The task id the next action will take.
  int32_t next_task_id() const noexcept;
  detail::ref<detail::state_base> sub_orchestration_raw(std::string_view name, std::string instance_id,
                                                        std::string input, std::optional<int32_t> version = {});
  detail::ref<detail::state_base> event_raw(std::string_view name);
  void send_event_raw(std::string instance_id, std::string name, std::string input);
  detail::ref<detail::state_base> entity_call_raw(const entity_id& entity, std::string_view operation,
                                                  std::string input);
  void entity_signal_raw(const entity_id& entity, std::string_view operation, std::string input,
                         time_point deliver_at = {});
  friend class entity_lock;
  void release_entity_lock(int32_t lock_task_id);
  void continue_as_new_raw(std::string input, bool keep_unprocessed_events, std::optional<int32_t> version);
  void set_custom_status_raw(std::string json);

  detail::engine& engine_;
};

namespace detail {

// A call without a retry policy makes one attempt. Built outside the coroutine: GCC 12 may destroy
// a braced temporary with non-trivial members twice inside one (docs/programming-model.md).
inline retry_policy retry_policy_of(const activity_options& options) {
  if (options.retry) return *options.retry;
  retry_policy once;
  once.max_attempts = 1;
  return once;
}

// The deadlines come from the orchestration's clock, so a replay computes the same ones.
template <class Out>
task<Out> retry_loop(orchestration_context& ctx, bool sub, std::string name, std::string input,
                     sub_orchestration_options target, activity_options options) {
  const retry_policy policy = retry_policy_of(options);
  const time_point first_start = ctx.current_time();
  const int32_t first_task_id = ctx.next_task_id();
  const time_point call_deadline =
      options.schedule_to_close_timeout.count() > 0 ? first_start + options.schedule_to_close_timeout : time_point{};
  std::string heartbeat_details;
  for (int attempt = 1;; ++attempt) {
    std::exception_ptr failure;
    failure_details details;
    try {
      const activity_timeouts timeouts{
          options.start_to_close_timeout.count() > 0 ? ctx.current_time() + options.start_to_close_timeout
                                                     : time_point{},
          call_deadline, options.heartbeat_timeout};
      task<Out> t = leaf_task<Out>(sub ? ctx.sub_orchestration_raw(name, target.instance_id, input, target.version)
                                       : ctx.activity_raw(name, input, attempt, attempt == 1 ? -1 : first_task_id,
                                                          timeouts, heartbeat_details));
      if constexpr (std::is_void_v<Out>) {
        co_await t;
        co_return;
      } else {
        co_return co_await t;
      }
    } catch (const perdure::task_failed& e) {
      failure = std::current_exception();
      details = e.failure();
      if (!e.last_heartbeat_details().empty()) heartbeat_details = e.last_heartbeat_details();
    }
    auto delay = policy.next_delay(attempt, details, ctx.current_time() - first_start);
    if (!delay) std::rethrow_exception(failure);
    if (call_deadline != time_point{} && ctx.current_time() + *delay >= call_deadline) std::rethrow_exception(failure);
    co_await ctx.create_timer(*delay);
  }
}

template <class T>
task<T> wait_with_timeout(orchestration_context& ctx, std::string name,
                          std::chrono::nanoseconds timeout) {
  task<T> event = ctx.wait_for_event<T>(name);
  task<void> timer = ctx.create_timer(timeout);
  if (co_await when_any(event, timer) == 1)
    throw timeout_error("event '" + name + "' not received within " +
                        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
                        " ms");
  co_return co_await event;
}

}  // namespace detail

}  // namespace perdure
