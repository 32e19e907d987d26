// A message for an orchestration instance: a history event on its way to the instance's partition.
//
// Every input of an instance is one: a start (execution_started), an activity result
// (task_completed / task_failed), a timer (timer_fired), an external event (event_raised), a
// sub-orchestration result (sub_orchestration_completed / _failed) and the management commands
// (execution_terminated / _suspended / _resumed).
#pragma once

#include <perdure/history.hpp>

#include <cstdint>
#include <string>

namespace perdure {

struct message {
  std::string instance_id;   // the receiver
  std::string execution_id;  // the receiver's execution; empty = whichever is current
  history_event event;
  // Where it came from, for de-duplication: a partition's outbox sequence number is unique and
  // increasing per source partition. Messages from clients carry no source (source_partition < 0).
  int32_t source_partition = -1;
  uint64_t source_seq = 0;
  // In transit only (never stored): the seq of the source's previous message to the same partition
  // that was not yet acknowledged when this one was sent, 0 if none. The receiver applies a message
  // only after that one, which keeps each source-to-target stream gap-free.
  uint64_t source_prev_seq = 0;
  friend bool operator==(const message&, const message&) = default;
};

}  // namespace perdure
