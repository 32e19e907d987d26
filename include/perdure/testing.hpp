// An in-memory tester for users' unit tests: runs an orchestration to its end against stub
// activities, with virtual time, in one thread, with no runtime.
//
// Operation: production's partition state machine (the code a node's partitions run) over an
// in-memory store, with virtual time, in one thread. Every flush runs one episode for each instance
// with messages waiting, as a node does. Activities (stubs first, then the registry's own) run
// synchronously when their scheduling is committed; their results arrive in a later episode, or
// after the virtual time activity_duration() gives them (their timeouts apply). Timers fire in order of fire time: when no instance has anything to do, virtual time jumps to the
// earliest timer or scheduled message. Sub-orchestrations run in-memory too, and events sent
// between instances are delivered. What a test sees here is what a node does.
//
//   perdure::orchestration_tester tester(functions);
//   tester.stub_activity("ChargeCard", [](perdure::activity_context&, Order o) { return 42; });
//   tester.raise_event("Approved", true, std::chrono::hours(2));
//   const auto& result = tester.run("FulfillOrder", order);
//   CHECK(result.status == perdure::runtime_status::completed);
#pragma once

#include <perdure/codec.hpp>
#include <perdure/history.hpp>
#include <perdure/instance.hpp>
#include <perdure/message.hpp>
#include <perdure/registry.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace perdure {

struct test_instance {
  std::string instance_id;
  std::string name;
  runtime_status status = runtime_status::pending;
  std::string output;  // JSON text, when completed
  std::optional<failure_details> failure;
  std::string custom_status;
  history events;                 // the current (last) execution's history
  std::vector<history> earlier;   // executions that continued as new, oldest first, as stored before the next one began

  template <class T>
  T output_as() const {
    return codec<T>::decode(output);
  }
};

class orchestration_tester {
 public:
  explicit orchestration_tester(const registry& functions);
  ~orchestration_tester();
  orchestration_tester(const orchestration_tester&) = delete;
  orchestration_tester& operator=(const orchestration_tester&) = delete;

  /// Replaces (or adds) an activity for this tester; same signatures as registry::add_activity.
  template <class F>
  orchestration_tester& stub_activity(std::string name, F fn) {
    stubs_.add_activity(std::move(name), std::move(fn));
    return *this;
  }

  /// Answers each attempt of activity `name` that completes asynchronously
  /// (activity_context::complete_asynchronously) as the external system holding its task token
  /// would (client::complete_activity / fail_activity): `answer(token)` is called when the attempt
  /// returns; its value completes the attempt `after` that (virtual time), and an exception it
  /// throws fails it (with the details an activity's exception gives). The completion is checked
  /// as a node checks it: one for an attempt that timed out meanwhile is refused and dropped.
  /// Without an answer the attempt stays open (its timeouts still apply).
  template <class F>
  orchestration_tester& answer_asynchronous_activity(std::string name, std::chrono::nanoseconds after, F answer) {
    async_answers_.push_back(async_answer{std::move(name), after, [answer = std::move(answer)](const std::string& token) {
                                            return encode_payload(answer(token));
                                          }});
    return *this;
  }

  /// Makes each attempt of activity `name` (a stub or the registry's own) take virtual time: it
  /// still runs when dispatched, but its result arrives `duration(attempt)` later (attempt: 1 for
  /// the first, as activity_context::attempt()). Its timeouts then apply as on a node, by the same
  /// state machine: an attempt past its start-to-close, schedule-to-close or heartbeat timeout
  /// fails with a TimeoutError that the retry policy sees, and its result, arriving after, is
  /// dropped. Its heartbeats (activity_context::heartbeat) count at its start, when it runs; the
  /// start is one, as a node's worker sends.
  orchestration_tester& activity_duration(std::string name, std::function<std::chrono::nanoseconds(int32_t attempt)> duration);
  orchestration_tester& activity_duration(std::string name, std::chrono::nanoseconds duration) {
    return activity_duration(std::move(name), [duration](int32_t) { return duration; });
  }

  /// Virtual time at the start (default 2024-01-01T00:00:00Z).
  orchestration_tester& start_at(time_point start);
  /// Stops a run that has not ended after this many episodes (default 100,000).
  orchestration_tester& max_episodes(size_t episodes);

  /// Delivers a message `after` the start to an instance (default: the one run() starts). With
  /// after == 0 it arrives with the start, before the orchestration waits for anything.
  orchestration_tester& schedule(std::chrono::nanoseconds after, event_payload event,
                                 std::string instance_id = {});
  template <class T>
  orchestration_tester& raise_event(std::string name, const T& payload,
                                    std::chrono::nanoseconds after = {}, std::string instance_id = {}) {
    return schedule(after, events::event_raised{std::move(name), encode_payload(payload)},
                    std::move(instance_id));
  }
  orchestration_tester& raise_event(std::string name, std::chrono::nanoseconds after = {}) {
    return schedule(after, events::event_raised{std::move(name), {}});
  }
  orchestration_tester& terminate(std::string reason, std::chrono::nanoseconds after) {
    return schedule(after, events::execution_terminated{std::move(reason)});
  }
  orchestration_tester& suspend(std::chrono::nanoseconds after) {
    return schedule(after, events::execution_suspended{});
  }
  orchestration_tester& resume(std::chrono::nanoseconds after) {
    return schedule(after, events::execution_resumed{});
  }

  /// Runs the orchestration until every instance ended or waits for something that will never
  /// come (then its status is still running). The result stays valid until the next run.
  template <class In>
  const test_instance& run(std::string name, const In& input,
                           std::string instance_id = "test-instance") {
    return run_raw(std::move(name), encode_payload(input), std::move(instance_id));
  }
  const test_instance& run(std::string name) { return run_raw(std::move(name), {}, "test-instance"); }
  const test_instance& run_raw(std::string name, std::string input_json, std::string instance_id);

  /// After a run: rewinds the Failed instance (client::rewind) and runs on, in the same virtual
  /// world, until every instance ended again or waits. Replace an activity first (stub_activity) to
  /// model the fix the rewind is for. Throws what a client would: instance_not_found,
  /// instance_status_conflict when it has not failed.
  const test_instance& rewind(std::string_view instance_id, std::string reason = {});
  /// After a run: restarts the finished instance (client::restart) and runs on as rewind() does.
  /// Throws instance_not_found, instance_status_conflict, invalid_argument_error (a prefix that is
  /// not one), unknown_function_error.
  const test_instance& restart(std::string_view instance_id, int32_t from_event = 0,
                               int32_t version = events::execution_started::any_version);

  /// Any instance the last run started (sub-orchestrations included), or nullptr.
  const test_instance* instance(std::string_view instance_id) const;
  /// An entity as the last run left it (nullopt: it has no state).
  std::optional<entity_record> entity(const entity_id& id) const;
  /// Events sent to instances the tester did not run.
  const std::vector<message>& sent_elsewhere() const noexcept;
  /// The virtual time reached.
  time_point now() const noexcept;


 private:
  struct async_answer {
    std::string activity_name;
    std::chrono::nanoseconds after;
    std::function<std::string(const std::string& token)> result;  // JSON
  };
  struct impl;
  const registry& functions_;
  registry stubs_;
  std::vector<async_answer> async_answers_;
  std::map<std::string, std::function<std::chrono::nanoseconds(int32_t)>> activity_durations_;
  std::unique_ptr<impl> impl_;
};

}  // namespace perdure
