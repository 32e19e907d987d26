// The messages Perdure's actors exchange: atoms, payload types, the error category, and
// register_types(), which every binary and test calls on its actor_system_config.
#pragma once

#include <partition/actions.hpp>

#include <perdure/error_code.hpp>
#include <perdure/instance.hpp>
#include <perdure/message.hpp>
#include <perdure/storage/store.hpp>

#include <caf/actor.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/error.hpp>
#include <caf/message.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <exception>
#include <stop_token>
#include <string>
#include <vector>

namespace perdure::actors {

// Client commands, answered once durable.
using start_atom = caf::atom_constant<caf::atom("pd_start")>;      // name, input, id, if_running, version (-1: latest), traceparent, tracestate
using command_atom = caf::atom_constant<caf::atom("pd_cmd")>;      // message for an existing instance
using wait_atom = caf::atom_constant<caf::atom("pd_wait")>;        // instance id, timeout ms -> instance_record
using purge_atom = caf::atom_constant<caf::atom("pd_purge")>;      // instance id -> bool
// Messages between partitions, workers and the dispatcher.
using deliver_atom = caf::atom_constant<caf::atom("pd_deliver")>;  // message or result_batch (no reply)
using ack_atom = caf::atom_constant<caf::atom("pd_ack")>;          // outbox seq delivered
using work_atom = caf::atom_constant<caf::atom("pd_work")>;        // activity_work or activity_batch
using idle_atom = caf::atom_constant<caf::atom("pd_idle")>;        // a worker is free (and how long its last batch ran)
// A running attempt's heartbeat, worker -> its partition on the same node (no reply):
// instance id, execution id, task id, details (JSON or empty).
using heartbeat_atom = caf::atom_constant<caf::atom("pd_beat")>;
// A heartbeat by task token (client::heartbeat_activity), node actor or local client -> the owning
// partition (request): instance id, execution id, task id, details -> "" or the refusal.
using heartbeat_by_token_atom = caf::atom_constant<caf::atom("pd_tokbeat")>;
// A running attempt returned pending (activity_context::complete_asynchronously), worker -> its
// partition (no reply): instance id, execution id, task id.
using awaiting_atom = caf::atom_constant<caf::atom("pd_await")>;
// Running or queued attempts nobody needs any more (partition::cancel_activities): partition ->
// its dispatcher -> the pool's dispatcher, which stops their tokens (running_attempts). Between
// nodes, cluster dispatcher -> the node actor running a lease: instance id, execution id, task id.
using cancel_atom = caf::atom_constant<caf::atom("pd_cancel")>;
// A partition's own clock ticks.
using flush_atom = caf::atom_constant<caf::atom("pd_flush")>;
using timer_atom = caf::atom_constant<caf::atom("pd_timer")>;
using resend_atom = caf::atom_constant<caf::atom("pd_resend")>;
using recover_atom = caf::atom_constant<caf::atom("pd_recover")>;
using wait_expired_atom = caf::atom_constant<caf::atom("pd_waitex")>;  // a waiting caller's time ran out
// Cluster: node actors, remote partitions, the cluster dispatcher (see actors/node_actor.hpp).
using hello_atom = caf::atom_constant<caf::atom("pd_hello")>;    // node_hello -> node_hello
using join_atom = caf::atom_constant<caf::atom("pd_join")>;      // host waits until the node joined
using member_atom = caf::atom_constant<caf::atom("pd_member")>;  // a member's node actor changed
using roster_atom = caf::atom_constant<caf::atom("pd_roster")>;  // member_roster: a replicated hub's members
using status_atom = caf::atom_constant<caf::atom("pd_status")>;  // instance id -> encoded record or ""
using entity_atom = caf::atom_constant<caf::atom("pd_entity")>;  // entity instance id -> encoded entity or ""
using history_atom = caf::atom_constant<caf::atom("pd_history")>;  // instance id -> wire_history
using list_atom = caf::atom_constant<caf::atom("pd_list")>;      // wire_query -> wire_page (whole hub)
                                                                 // entity_atom, wire_entity_query -> wire_page
using local_atom = caf::atom_constant<caf::atom("pd_local")>;    // prefix: only this node's data
using stats_atom = caf::atom_constant<caf::atom("pd_stats")>;    // -> std::vector<wire_stats>
using done_atom = caf::atom_constant<caf::atom("pd_done")>;      // locally run activities finished (leases)
using tick_atom = caf::atom_constant<caf::atom("pd_tick")>;
// Node actor -> node actor, one-way: client calls forwarded to their partition's owner
// (call_batch), and the owner's answers to them (reply_batch).
using forward_atom = caf::atom_constant<caf::atom("pd_forward")>;

/// An activity to run, and where its result goes. When `done_to` is set, the worker also tells it
/// `done_atom, std::vector<uint64_t>{lease, ...}` after sending the result (the cluster
/// dispatcher's flow control).
struct activity_work {
  activity_work() = default;
  activity_work(storage::activity_task t, caf::actor p, caf::actor done = {}, uint64_t l = 0)
      : task(std::move(t)), partition(std::move(p)), done_to(std::move(done)), lease(l) {}
  storage::activity_task task;
  caf::actor partition;
  caf::actor done_to;
  uint64_t lease = 0;
  std::stop_token stop;  // set by the pool's dispatcher as it queues the attempt (running_attempts)
};

/// Activities handed over in one message: what one flush scheduled (partition -> dispatcher) or a
/// worker's share of the queue (dispatcher -> worker). Every hand-off wakes a thread, so they are
/// batched rather than sent one activity at a time.
struct activity_batch {
  std::vector<activity_work> items;
};

/// Activity results for one partition, sent by a worker as one message.
struct result_batch {
  std::vector<message> results;
};

// ---- Networked types. Perdure values cross the network as storage codec bytes (Cap'n Proto,
// versioned); CAF only frames them. Every type here is registered in register_types() and
// round-tripped by tests/cluster/wire_test.cpp.

/// The handshake between two nodes; a node refuses a peer whose hub shape differs from its own.
struct node_hello {
  std::string node_id;
  uint32_t partitions = 0;
  std::string members;  // the canonical member list (cluster_membership::canonical())
  uint32_t workers = 0; // activity workers: the flow-control budget others use for this node
};  // the sender's node actor is the request's sender

/// A message for partition `partition` of the receiving node (codec bytes + the transport-only
/// source_prev_seq, which the codec does not store).
struct wire_message {
  uint32_t partition = 0;
  std::string bytes;
  uint64_t prev_seq = 0;
};

/// Outbox traffic for one partition of the receiving node, sent as one message: what its proxy on
/// the sending node got in one round of its mailbox. Messages keep their order, and so do acks.
struct wire_batch {
  uint32_t partition = 0;
  std::vector<wire_message> messages;
  std::vector<uint64_t> acks;  // seqs of that partition's outbox, delivered here
};

/// A client call the sending node forwards to the owner of `partition`: the request as the
/// sender's node actor got it, answered by a forwarded_reply with the same id.
struct forwarded_call {
  uint64_t id = 0;
  uint32_t partition = 0;
  int64_t timeout_ms = 0;
  caf::message request;
};

/// The answer to a forwarded call: the reply message, or a caf::error.
struct forwarded_reply {
  uint64_t id = 0;
  caf::message reply;
};

/// The calls one node forwarded to another in one round of its mailbox.
struct call_batch {
  std::vector<forwarded_call> calls;
};

/// The answers one node owes another, sent together.
struct reply_batch {
  std::vector<forwarded_reply> replies;
};

/// An activity leased to another node; the answer is the result message's codec bytes, or empty
/// when the attempt awaits completion by its task token.
struct wire_activity {
  std::string task;  // codec bytes of storage::activity_task
};

struct wire_query {
  std::vector<uint8_t> statuses;
  std::string name;
  bool has_from = false;
  int64_t from_ns = 0;
  bool has_to = false;
  int64_t to_ns = 0;
  std::string instance_id_prefix;
  uint64_t page_size = 100;
  std::string continuation_token;
  bool has_version = false;
  int32_t version = 0;
  bool waiting_for_version = false;
};

/// An entity listing's query (perdure::entity_query).
struct wire_entity_query {
  std::string name;
  std::string key_prefix;
  uint64_t page_size = 100;
  std::string continuation_token;
};

struct wire_page {
  std::vector<std::string> records;  // codec rows of instances, or codec entity records
  std::string continuation_token;
};

struct wire_history {
  std::vector<std::string> events;  // codec events
};

/// One node's counters, for tests, benchmarks and operators.
struct wire_stats {
  std::string node_id;
  uint32_t partitions_owned = 0;
  uint64_t activities_executed = 0;   // run by this node's workers (local and leased from others)
  uint64_t activities_leased_out = 0; // sent to other nodes' workers
  uint64_t activities_redispatched = 0;  // leases that expired on a dead node and ran again
  uint64_t activities_rejected = 0;   // leases this node refused because its queue was full
  uint64_t messages_out = 0;          // node-to-node messages sent
  uint64_t messages_in = 0;
  uint64_t episodes = 0;
  std::vector<std::string> members_up;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_hello& x) {
  return f(caf::meta::type_name("pd_node_hello"), x.node_id, x.partitions, x.members, x.workers);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_message& x) {
  return f(caf::meta::type_name("pd_wire_message"), x.partition, x.bytes, x.prev_seq);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_batch& x) {
  return f(caf::meta::type_name("pd_wire_batch"), x.partition, x.messages, x.acks);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_call& x) {
  return f(caf::meta::type_name("pd_forwarded_call"), x.id, x.partition, x.timeout_ms, x.request);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_reply& x) {
  return f(caf::meta::type_name("pd_forwarded_reply"), x.id, x.reply);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, call_batch& x) {
  return f(caf::meta::type_name("pd_call_batch"), x.calls);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reply_batch& x) {
  return f(caf::meta::type_name("pd_reply_batch"), x.replies);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_activity& x) {
  return f(caf::meta::type_name("pd_wire_activity"), x.task);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_query& x) {
  return f(caf::meta::type_name("pd_wire_query"), x.statuses, x.name, x.has_from, x.from_ns, x.has_to, x.to_ns,
           x.instance_id_prefix, x.page_size, x.continuation_token, x.has_version, x.version, x.waiting_for_version);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_entity_query& x) {
  return f(caf::meta::type_name("pd_wire_entity_query"), x.name, x.key_prefix, x.page_size, x.continuation_token);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_page& x) {
  return f(caf::meta::type_name("pd_wire_page"), x.records, x.continuation_token);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_history& x) {
  return f(caf::meta::type_name("pd_wire_history"), x.events);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, wire_stats& x) {
  return f(caf::meta::type_name("pd_wire_stats"), x.node_id, x.partitions_owned, x.activities_executed,
           x.activities_leased_out, x.activities_redispatched, x.activities_rejected, x.messages_out, x.messages_in,
           x.episodes, x.members_up);
}

// Conversions between Perdure values and their wire form. Decoding treats the bytes as untrusted
// and throws storage::store_error(corrupt_record) on bad input.
std::string encode_message(const message& msg);
message decode_message(const std::string& bytes);
std::string encode_record(const instance_record& record);
instance_record decode_record(const std::string& bytes);
std::string encode_entity(const entity_record& entity);
entity_record decode_entity(const std::string& bytes);
std::string encode_event(const history_event& event);
history_event decode_event(const std::string& bytes);
std::string encode_task(const storage::activity_task& task);
storage::activity_task decode_task(const std::string& bytes);
wire_query to_wire(const storage::instance_query& query);
storage::instance_query from_wire(const wire_query& query);
wire_entity_query to_wire(const entity_query& query);
entity_query from_wire(const wire_entity_query& query);

/// Why a client command was refused: the wire form of a perdure::errc (to_errc, to_client_errc).
/// Travels as a caf::error of category "perdure" whose context holds the human-readable message.
enum class client_errc : uint8_t {
  not_found = 1,
  already_exists,
  invalid_argument,
  unknown_function,
  unavailable,  // the partition stopped after a storage failure, or its node is unreachable
  busy,         // a node refused leased work: its activity queue is full (the sender retries elsewhere)
  instance_finished,  // a command (terminate, raise, suspend, resume) for an instance that has ended
  storage_failure,    // the store could not read a record the call needed (the message names its key)
  failed,             // anything else; the message says what
  activity_not_open,  // a completion by task token for an attempt that already ended
  status_conflict,    // a rewind of an instance that has not failed, a restart of one that runs
};

/// The one place where client_errc and perdure::errc meet. to_client_errc sends a kind that has
/// no wire value of its own as `failed` (a payload error as `invalid_argument`: it is the
/// caller's); to_errc takes `busy` as unavailable.
client_errc to_client_errc(errc code) noexcept;
errc to_errc(client_errc code) noexcept;

inline caf::error make_client_error(client_errc code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), caf::atom("perdure"), caf::make_message(std::move(message))};
}

/// The client error for an exception met while serving a client: a perdure::error (a store
/// failure included, through client_errc_of) keeps its kind and message; anything else is
/// `failed`, saying it is an internal error.
caf::error make_client_error(std::exception_ptr failure);

/// Throws the perdure exception a client error stands for.
[[noreturn]] void throw_client_error(const caf::error& err, const std::string& instance_id);

void register_types(caf::actor_system_config& cfg);

}  // namespace perdure::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::message)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::instance_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::actors::activity_work)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::actors::activity_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::actors::result_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(perdure::partition::cancel_activities)
