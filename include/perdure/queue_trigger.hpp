// Queue triggers: messages on a NATS JetStream subject start orchestration instances (or raise an
// event on one). A node consumes the subject through a durable pull consumer; see
// docs/queue-triggers.md for users and docs/architecture.md, "Queue triggers", for why.
//
// Guarantee: a message is acknowledged only after its instance's start returned, that is after the
// start is durable, and the instance id comes from the message (`id_header`, by default
// JetStream's `Nats-Msg-Id`; without it `<stream>:<stream sequence>`, which a redelivery keeps). A
// message delivered again (the node died before its ack, the ack was lost) finds its instance
// and starts nothing: not a second instance, and not a new execution of one that already ended.
// Raising an event is at least once: a redelivery may raise it twice.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace perdure {

struct queue_trigger_options {
  std::string subject;        // the JetStream subject, e.g. "orders.new" (required)
  std::string orchestration;  // the orchestration each message starts, or whose instance gets `event` (required)
  // The stream that holds `subject`. Empty: the stream JetStream finds for the subject (there must
  // be one). Given: created (file storage, 1 replica) when no stream of that name exists.
  std::string stream;
  std::string durable;                    // the consumer's durable name; empty: "perdure_" + orchestration
  std::string id_header = "Nats-Msg-Id";  // the header that carries the instance id
  std::string event;  // non-empty: raise this event on the instance (the payload is its data) instead of starting one
  // A message that fails for a reason of its own (a payload that is not JSON, an unknown
  // orchestration, an id that is not a valid instance id, an event for an instance that does not
  // exist) is tried this often, then terminated: JetStream never delivers it again, the node logs
  // it and counts it in perdure_queue_poison_messages_total. Failures of the node (a partition
  // unavailable) are retried without limit.
  uint32_t max_deliveries = 5;
  // How long JetStream waits for an ack before it delivers a message again (new consumers only):
  // after a crash the messages the node held come back after it.
  std::chrono::milliseconds ack_wait{30'000};
  uint32_t workers = 8;  // messages handled at once (each waits for its start to be durable)
};

/// Parses the node flag's form "subject=orders.new,orchestration=FulfillOrder[,stream=S][,durable=D]
/// [,header=H][,event=E][,max-deliveries=N][,ack-wait=SECONDS][,workers=N]". Throws
/// invalid_argument_error naming the key or value at fault.
queue_trigger_options parse_queue_trigger(std::string_view spec);

}  // namespace perdure
