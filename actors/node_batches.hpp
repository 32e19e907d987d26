// Client calls forwarded between node actors, batched: the calls this node forwards to a member in
// one round of its mailbox travel as one call_batch, and the answers it owes a member as one
// reply_batch, instead of one request and one response per call. A flush message the node actor
// sends itself when it queues the first entry ends the round: everything that was in the mailbox
// before it is in the batch. A batch is also sent once it holds 256 entries or about 1 MiB.
//
// The forwarding node keeps each call's response promise (node_state::forwards) until the answer
// with its id comes back, the member goes down (fail_forwards_to), or the batch's timer answers it
// with a timeout (expire_calls). The owner serves a call as a
// request to itself, so it takes exactly the path of a call from a client; a call for a partition
// it does not own (it moved meanwhile) is answered unavailable rather than forwarded again, so a
// call never bounces between two nodes whose views disagree for a moment.
#pragma once

#include "node_state.hpp"

namespace perdure::actors::node_impl {

/// Queues a call for `member` (its id has an entry in node_state::forwards).
void queue_call(node_actor* self, size_t member, forwarded_call call);

/// Serves the calls another node forwarded here; their answers go back batched.
void serve_calls(node_actor* self, call_batch& batch);

/// Answers the calls this node forwarded, with what their owner answered.
void take_replies(node_actor* self, reply_batch& batch);

/// Answers the calls among `ids` that are still open with a timeout (a batch's timer).
void expire_calls(node_actor* self, const std::vector<uint64_t>& ids);

/// Sends every queued batch (flush_atom, which the node actor sends itself).
void flush_batches(node_actor* self);

}  // namespace perdure::actors::node_impl
