// The client of a task hub: start orchestrations, query and manage instances.
//
// Semantics: every command returns once its effect is durable (committed to the owning partition's
// store), so a start that returned survives a crash of the node. Reads (status, list, history) see
// the durable state.
#pragma once

#include <perdure/entity_record.hpp>
#include <perdure/errors.hpp>
#include <perdure/history.hpp>
#include <perdure/instance.hpp>
#include <perdure/query.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace perdure {

/// What start() does when an instance with that id already exists and is not finished.
enum class if_running {
  fail,            // throw instance_already_exists
  return_existing  // idempotent start: return the id, leave the running instance alone
};

struct start_options {
  std::string instance_id;  // empty: a new random id
  if_running when_running = if_running::fail;
  // The registered version of the orchestration to run; unset: the latest one. A version the
  // node does not register is refused (unknown_function_error).
  std::optional<int32_t> version = std::nullopt;
  // The W3C trace context of the caller (docs/tracing.md): the instance's span becomes a child of
  // the span `traceparent` names, in its trace. Empty: the instance begins a trace of its own. A
  // malformed traceparent is ignored (with a warning in the log), as the W3C recommendation asks.
  std::string traceparent{};
  std::string tracestate{};
};

/// What client::restart starts (docs/programming-model.md, "Rewind and restart").
struct restart_options {
  // The new execution's history begins with this many events of the previous one's (positions as
  // client::history() lists them), replayed, and continues live from there. It must end at an
  // episode boundary (the position of an EpisodeStarted after the first one). 0: from the start.
  int32_t from_event = 0;
  // The registered version the new execution runs; unset: the previous execution's.
  std::optional<int32_t> version = std::nullopt;
};

/// How an asynchronous wait ended: the record of the instance that ended, or what
/// wait_for_completion would have thrown (instance_not_found, timeout_error, unavailable, ...).
using wait_result = std::variant<instance_record, std::exception_ptr>;

/// Gives up an asynchronous wait (see wait_for_completion_async). Harmless to call more than once,
/// or after the wait ended.
using cancel_wait = std::function<void()>;

/// How an asynchronous start ended: the instance id, or what start would have thrown.
using start_result = std::variant<std::string, std::exception_ptr>;

class client {
 public:
  virtual ~client() = default;

  /// Starts an orchestration by name with a JSON input; returns the instance id. Throws
  /// unknown_function_error, instance_already_exists, invalid_argument_error (bad id or payload).
  virtual std::string start(std::string_view name, std::string input_json,
                            const start_options& options = {}) = 0;

  /// start without holding a thread while the owning partition commits (the HTTP API's starts).
  /// Returns at once; `done` is called exactly once, on one of the node's actor threads (so it
  /// must not block), with the id or the failure. What this side can check at once (a bad id or
  /// payload, an orchestration this node does not register) is thrown here instead, before
  /// anything is sent.
  virtual void start_async(std::string_view name, std::string input_json, const start_options& options,
                           std::function<void(start_result)> done) = 0;

  virtual std::optional<instance_record> status(std::string_view instance_id) = 0;

  /// Waits until the instance is terminal (completed, failed, terminated). Throws
  /// instance_not_found, timeout_error.
  virtual instance_record wait_for_completion(std::string_view instance_id,
                                              std::chrono::milliseconds timeout) = 0;

  /// wait_for_completion without holding a thread while waiting (the HTTP API's long-polls): the
  /// owning partition answers when the instance ends. Returns at once; `done` is called exactly
  /// once, on one of the node's actor threads (so it must not block), with the record or the
  /// failure, unless the wait is cancelled first: after the returned function is called, `done`
  /// is called at most once more (if its answer was already on the way) or never. Throws
  /// invalid_argument_error for a bad id, before anything is sent.
  virtual cancel_wait wait_for_completion_async(std::string_view instance_id, std::chrono::milliseconds timeout,
                                                std::function<void(wait_result)> done) = 0;

  /// Delivers an event; buffered by the instance until it waits for that name. Throws
  /// instance_not_found. `traceparent`: the caller's W3C trace context (docs/tracing.md); the span
  /// of the episode that receives the event links to the span it names. A malformed one is ignored
  /// with a warning.
  virtual void raise_event(std::string_view instance_id, std::string_view event_name, std::string payload_json,
                           std::string traceparent = {}) = 0;
  virtual void terminate(std::string_view instance_id, std::string reason) = 0;
  virtual void suspend(std::string_view instance_id, std::string reason) = 0;
  virtual void resume(std::string_view instance_id, std::string reason) = 0;
  /// Rewinds a Failed instance: the failure that failed it no longer counts (the history keeps it,
  /// and an ExecutionRewound with `reason`), and it continues from just before the failed
  /// activity or sub-orchestration, which runs again. Returns once the rewind is durable. Throws
  /// instance_not_found, instance_status_conflict when the instance has not failed.
  virtual void rewind(std::string_view instance_id, std::string reason) = 0;
  /// Restarts a finished (completed, failed, terminated) instance as a new execution with the same
  /// id and input, from the start or from a prefix of its history (restart_options). Returns once
  /// the restart is durable. Throws instance_not_found, instance_status_conflict when it has not
  /// ended (terminate it first), invalid_argument_error for a prefix that is not one,
  /// unknown_function_error for a version not registered.
  virtual void restart(std::string_view instance_id, const restart_options& options = {}) = 0;

  /// Completes an activity attempt that awaits completion by its task token
  /// (activity_context::complete_asynchronously) with a JSON result, which the orchestration gets
  /// at its co_await as the activity's return value. Returns once durable, wherever the token is
  /// sent (a cluster routes it to the instance's owner). Throws invalid_argument_error (a malformed
  /// token; a result that is not a JSON payload or is over the payload limit), instance_not_found,
  /// instance_finished, activity_not_open (the attempt was completed or failed already, timed out,
  /// or its execution was replaced: a second completion is refused, whatever its result).
  virtual void complete_activity(std::string_view task_token, std::string result_json) = 0;
  /// Fails such an attempt: the orchestration's retry policy decides, then its co_await throws
  /// task_failed with `failure`. Same errors as complete_activity.
  virtual void fail_activity(std::string_view task_token, failure_details failure) = 0;
  /// Records progress of such an attempt from the external system working on it (as Temporal's
  /// RecordActivityHeartbeatById): its heartbeat timeout (activity_options) starts again, and
  /// `details_json` (a JSON payload; empty for none) are what its timeout failure, and so its next
  /// attempt's activity_context::heartbeat_details(), carry. Returns at once (a heartbeat is not
  /// durable: after a restart of the node the heartbeat timeout starts over). A refusal tells the
  /// external system to stop working on the attempt: instance_finished (the instance ended, the
  /// attempt is cancelled), activity_not_open (it timed out, was completed or failed, or its
  /// execution was replaced); also invalid_argument_error (a malformed token, bad details) and
  /// instance_not_found.
  virtual void heartbeat_activity(std::string_view task_token, std::string details_json) = 0;

  /// Deletes a finished instance and its history; false if it did not exist. Throws
  /// invalid_argument_error for an instance that still runs.
  virtual bool purge(std::string_view instance_id) = 0;
  /// Purges every finished instance matching the filter; returns how many.
  virtual size_t purge(const instance_query& filter) = 0;

  virtual instance_page list(const instance_query& query) = 0;
  virtual perdure::history history(std::string_view instance_id) = 0;

  // Entities (entity.hpp). Operations sent by one client run in the order it sent them.
  /// Sends an operation to an entity, one-way (a new entity is created by it); returns once the
  /// operation is durably queued. With `deliver_at`, a scheduled signal: it waits durably in the
  /// entity's partition and runs then, not before (at once if that has passed). Throws
  /// invalid_argument_error for a bad id, operation name or payload. `traceparent`: the caller's
  /// W3C trace context (docs/tracing.md); the operation's span is a child of the span it names. A
  /// malformed one is ignored with a warning.
  virtual void signal_entity(const entity_id& entity, std::string_view operation, std::string input_json,
                             time_point deliver_at = {}, std::string traceparent = {}) = 0;
  /// The entity, or nullopt if it has no state.
  virtual std::optional<entity_record> get_entity(const entity_id& entity) = 0;
  virtual entity_page list_entities(const entity_query& query) = 0;
  /// Deletes the entity's state after the operations sent to it before; returns once queued.
  virtual void delete_entity(const entity_id& entity) = 0;
};

/// One cluster node's counters (see docs/architecture.md, "Cluster").
struct node_stats {
  std::string node_id;
  uint32_t partitions_owned = 0;
  uint64_t activities_executed = 0;      // run by this node's workers, for any node's partitions
  uint64_t activities_leased_out = 0;    // this node's activities sent to other nodes' workers
  uint64_t activities_redispatched = 0;  // leases that ran out on a lost node and were sent again
  uint64_t activities_rejected = 0;      // leased work this node refused (its queue was full)
  uint64_t messages_out = 0;             // node-to-node messages
  uint64_t messages_in = 0;
  uint64_t episodes = 0;
  std::vector<std::string> members_up;   // the other members this node currently reaches
};

/// The client of a cluster node: every call is routed to the node that owns the instance's
/// partition; list() merges every node's instances. Throws perdure::error when the owner is
/// unreachable (retry once it is back).
class cluster_client : public client {
 public:
  /// The counters of every node this node reaches, this node first.
  virtual std::vector<node_stats> cluster_stats() = 0;
};

/// PEM files for mutual TLS between the nodes of a hub, and between a node and perdure::connect
/// (docs/security.md): this side's certificate (its chain, leaf first), its unencrypted private
/// key, and the CA every side's certificate must be signed by. Empty: plain TCP.
struct tls_credentials {
  std::filesystem::path certificate;
  std::filesystem::path private_key;
  std::filesystem::path ca;
  bool empty() const noexcept { return certificate.empty() && private_key.empty() && ca.empty(); }
};

/// Connects to a cluster node over the network (its --members address); with `tls`, over mutual
/// TLS, as the hub's members speak when started with --tls-cert/--tls-key/--tls-ca. Throws
/// perdure::error when nothing answers there, it is not a Perdure node, or the TLS handshake is
/// refused (a certificate not signed by the other side's CA); invalid_argument_error when the TLS
/// files cannot be loaded.
std::unique_ptr<cluster_client> connect(const std::string& host, uint16_t port, const tls_credentials& tls = {});

}  // namespace perdure
