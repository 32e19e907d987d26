// The consumer of one queue trigger (include/perdure/queue_trigger.hpp): JetStream messages in,
// durable starts (or raised events) out.
//
// Operation: `workers` threads, each with its own pull subscription to the trigger's durable
// consumer, fetch up to 16 messages at a time and handle them in order: read the instance id from
// the message, start the instance through the node's client unless it exists (an instance that
// already ended is not started again: `start` with return_existing would start a new execution of
// it), and only when that call returned, ack. A failure of the message's own (bad payload, unknown
// orchestration, invalid id) is retried with a growing delay until `max_deliveries`, then the
// message is terminated; a failure of the node (a partition unavailable) is retried after 1 s
// without limit.
// Concurrency: the workers share nothing but the counters (atomics) and the client, which is
// thread-safe; they block only themselves (each start waits for its partition's commit), never a
// partition or an actor thread.
// Limitations: the check for an existing instance and the start are two calls. If a message is
// delivered again while its first delivery is still being handled (its ack wait ran out), the
// second delivery may check before the first one's start, and start the instance again if the
// first delivery's instance has ended in between; ack_wait well above a start's latency makes
// this moot.
#pragma once

#include <perdure/client.hpp>
#include <perdure/queue_trigger.hpp>

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

namespace perdure {

namespace storage {
class jetstream_connection;
}

struct queue_trigger_counters {
  std::atomic<uint64_t> received{0};         // deliveries, redeliveries included
  std::atomic<uint64_t> started{0};          // instances this trigger started
  std::atomic<uint64_t> already_started{0};  // messages whose instance existed (a redelivery, a repeated id)
  std::atomic<uint64_t> events_raised{0};
  std::atomic<uint64_t> redeliveries{0};     // deliveries after the first of a message
  std::atomic<uint64_t> retried{0};          // messages given back because the node could not take them
  std::atomic<uint64_t> poison{0};           // messages terminated after max_deliveries
};

class queue_trigger {
 public:
  /// Creates the stream when `options.stream` names one that does not exist, subscribes every
  /// worker to the durable consumer (creating it when it does not exist) and starts them. Throws
  /// perdure::error saying what is missing (no stream holds the subject, a bad name, no server).
  queue_trigger(storage::jetstream_connection& nats, client& hub, queue_trigger_options options);
  /// Stops: each worker finishes the message it handles and gives the ones it fetched back (nak),
  /// so they are delivered again at once rather than after the ack wait.
  ~queue_trigger();
  queue_trigger(const queue_trigger&) = delete;
  queue_trigger& operator=(const queue_trigger&) = delete;

  const queue_trigger_options& options() const noexcept { return options_; }
  const queue_trigger_counters& counters() const noexcept { return counters_; }

 private:
  struct subscription_deleter {
    void operator()(natsSubscription* s) const noexcept { natsSubscription_Destroy(s); }
  };
  using subscription = std::unique_ptr<natsSubscription, subscription_deleter>;

  void create_stream_if_missing();
  subscription subscribe();
  void run(const std::stop_token& stop, natsSubscription* sub);
  void handle(natsMsg* msg);
  // A message's W3C trace context headers (traceparent, tracestate): the start continues its trace.
  struct trace_headers {
    std::string traceparent;
    std::string tracestate;
  };
  static trace_headers trace_headers_of(natsMsg* msg);
  void apply(const std::string& instance_id, std::string payload, trace_headers trace);

  storage::jetstream_connection& nats_;
  client& hub_;
  queue_trigger_options options_;
  queue_trigger_counters counters_;
  std::atomic<int64_t> last_retry_log_ms_{0};
  std::vector<subscription> subscriptions_;
  std::vector<std::jthread> workers_;  // last: joined before the subscriptions go
};

}  // namespace perdure
