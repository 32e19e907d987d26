// What the partition state machine asks its shell to do. The state machine decides; the shell (the
// partition actor in production, orchestration_tester in users' unit tests) carries the actions
// out, in order, after the commit they depend on has returned.
#pragma once

#include "activity_deadlines.hpp"

#include <perdure/detail/span_record.hpp>
#include <perdure/instance.hpp>
#include <perdure/message.hpp>
#include <perdure/storage/store.hpp>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace perdure::partition {

/// The shell's handle for a caller waiting for an answer (a CAF response promise, a test's slot).
using request_id = uint64_t;

/// Why a request was refused: the wire form maps each code to one client error.
enum class refusal_code : uint8_t {
  not_found,
  already_exists,
  invalid_argument,
  unknown_function,
  unavailable,        // the partition stopped after a storage failure
  instance_finished,  // a command for an instance that has ended
  activity_not_open,  // a completion by task token for an attempt that already ended
  status_conflict,    // a rewind of an instance that has not failed, a restart of one that runs
};

struct refusal {
  refusal_code code;
  std::string message;
  friend bool operator==(const refusal&, const refusal&) = default;
};

/// Run these activities (each at least once; a result comes back through state_machine::deliver).
struct dispatch_activities {
  std::vector<storage::activity_task> tasks;
};

/// Tell running attempts that nobody needs their result any more (activity_context::cancelled()):
/// the attempts that timed out, and every attempt of each instance that ended. Advisory: a result
/// that still comes is dropped.
struct cancel_activities {
  std::vector<attempt_ref> timed_out;
  std::vector<std::string> ended_instances;
};

/// Call state_machine::on_timer at `at` (or soon after). A later arm_timer replaces an earlier one.
struct arm_timer {
  time_point at;
};

/// Send to the partition that owns msg.instance_id; it acknowledges with state_machine::acknowledged
/// on this side once the message is durable there. Re-sent until acknowledged.
struct send_message {
  uint32_t target_partition = 0;
  message msg;
};

/// Tell partition `source_partition` that its message `seq` is durable here.
struct acknowledge {
  uint32_t source_partition = 0;
  uint64_t seq = 0;
};

/// A start's instance id, a command's acceptance (empty), a waited-for final record, a purge's
/// result, or a refusal.
using answer_value = std::variant<std::string, instance_record, bool, refusal>;

struct answer {
  request_id to = 0;
  answer_value value;
};

/// Hand these finished spans (of committed episodes, timers, instances) to the exporter, if any.
struct export_spans {
  detail::span_records spans;
};

using action =
    std::variant<dispatch_activities, cancel_activities, arm_timer, send_message, acknowledge, answer, export_spans>;
using actions = std::vector<action>;

}  // namespace perdure::partition
