// The node actor's routing: client calls (start, command, wait, purge, status, history) and
// partition traffic (messages, acknowledgements, leased activities). What concerns a partition
// this node owns is served here (status and history from the local store); everything else is
// forwarded to the owner's node actor and its answer relayed, or refused as unavailable while the
// owner is unreachable.
#pragma once

#include "node_state.hpp"

#include <caf/result.hpp>

#include <cstdint>
#include <string>

namespace perdure::actors::node_impl {

/// Answers every call forwarded to `member` and not answered yet: unavailable, retry.
void fail_forwards_to(node_actor* self, size_t member, const std::string& why);

// Partition traffic from other nodes (their remote_partition proxies and cluster dispatchers).
void deliver_batch(node_actor* self, wire_batch& batch);
caf::result<std::string> run_leased(node_actor* self, wire_activity& w);
/// The owner of a lease run here cancelled its attempt (it timed out, or its instance ended).
void cancel_leased(node_actor* self, std::string& instance_id, std::string& execution_id, int32_t task_id);

// The client API.
caf::result<std::string> route_start(node_actor* self, std::string& name, std::string& input, std::string& id,
                                     bool return_existing, int32_t version, std::string& traceparent,
                                     std::string& tracestate);
caf::result<std::string> route_command(node_actor* self, std::string& bytes);
caf::result<std::string> route_heartbeat_by_token(node_actor* self, std::string& instance_id, std::string& execution_id,
                                                 int32_t task_id, std::string& details);
caf::result<std::string> route_wait(node_actor* self, std::string& id, int64_t timeout_ms);
caf::result<bool> route_purge(node_actor* self, std::string& id);
caf::result<std::string> route_status(node_actor* self, std::string& id);
caf::result<std::string> route_entity(node_actor* self, std::string& id);
caf::result<wire_history> route_history(node_actor* self, std::string& id);

}  // namespace perdure::actors::node_impl
