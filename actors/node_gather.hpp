// The node actor's gathers across every node: a listing asks each owner for a page after the same
// position and merges them in the listing's order (instances by (created_at, instance_id),
// entities by id), failing while a node is unreachable rather than answer a silently partial
// list; stats report every reachable node.
#pragma once

#include "node_state.hpp"

#include <caf/result.hpp>

#include <vector>

namespace perdure::actors::node_impl {

/// list_atom: one page of the whole hub.
caf::result<wire_page> list_all(node_actor* self, const wire_query& query);
/// local_atom, list_atom: this node's part of it, from its store.
caf::result<wire_page> list_local(node_actor* self, const wire_query& query);

/// list_atom, entity_atom: one page of the hub's entities.
caf::result<wire_page> list_entities_all(node_actor* self, const wire_entity_query& query);
/// local_atom, list_atom, entity_atom: this node's part of it, from its store.
caf::result<wire_page> list_entities_local(node_actor* self, const wire_entity_query& query);

/// stats_atom: this node's counters, then every reachable node's.
caf::result<std::vector<wire_stats>> stats_all(node_actor* self);
/// local_atom, stats_atom: this node's counters.
wire_stats local_stats(node_actor* self);

}  // namespace perdure::actors::node_impl
