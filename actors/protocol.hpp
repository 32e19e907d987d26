// The messages Perdure's actors exchange: atoms, payload types, the error category, and
// register_types(), which every binary and test calls on its actor_system_config.
#pragma once

#include <perdure/instance.hpp>
#include <perdure/message.hpp>
#include <perdure/storage/store.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>

#include <cstdint>
#include <string>

namespace perdure::actors {

// Client commands, answered once durable.
using start_atom = caf::atom_constant<caf::atom("pd_start")>;      // name, input, id, if_running
using command_atom = caf::atom_constant<caf::atom("pd_cmd")>;      // message for an existing instance
using wait_atom = caf::atom_constant<caf::atom("pd_wait")>;        // instance id -> instance_record
using purge_atom = caf::atom_constant<caf::atom("pd_purge")>;      // instance id -> bool
// Messages between partitions, workers and the dispatcher.
using deliver_atom = caf::atom_constant<caf::atom("pd_deliver")>;  // message (no reply)
using ack_atom = caf::atom_constant<caf::atom("pd_ack")>;          // outbox seq delivered
using work_atom = caf::atom_constant<caf::atom("pd_work")>;        // activity_work
using idle_atom = caf::atom_constant<caf::atom("pd_idle")>;        // a worker is free
// A partition's own clock ticks.
using flush_atom = caf::atom_constant<caf::atom("pd_flush")>;
using timer_atom = caf::atom_constant<caf::atom("pd_timer")>;
using resend_atom = caf::atom_constant<caf::atom("pd_resend")>;
using recover_atom = caf::atom_constant<caf::atom("pd_recover")>;

/// An activity to run, and where its result goes.
struct activity_work {
  storage::activity_task task;
  caf::actor partition;
};

/// Why a client command was refused; travels as a caf::error of category "perdure" whose context
/// holds the human-readable message.
enum class client_errc : uint8_t {
  not_found = 1,
  already_exists,
  invalid_argument,
  unknown_function,
  unavailable,  // the partition stopped after a storage failure
};

inline caf::error make_client_error(client_errc code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("perdure"), caf::make_message(std::move(message))};
}

/// Throws the perdure exception a client error stands for.
[[noreturn]] void throw_client_error(const caf::error& err, const std::string& instance_id);

void register_types(caf::actor_system_config& cfg);

}  // namespace perdure::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::instance_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::actors::activity_work)
