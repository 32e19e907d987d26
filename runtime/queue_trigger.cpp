#include "queue_trigger.hpp"

#include "storage/log/jetstream.hpp"

#include <perdure/error_code.hpp>
#include <perdure/errors.hpp>
#include <perdure/storage/store.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace perdure {
namespace {

constexpr int fetch_batch = 16;
// How long a fetch waits for messages: also how soon a worker sees a stop request.
constexpr int64_t fetch_wait_ms = 500;
constexpr int64_t node_retry_delay_ms = 1'000;

// A durable name is a NATS name: letters, digits, '-' and '_'.
std::string plain_name(std::string_view name) {
  std::string out{name};
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return out;
}

// Whether the message itself is why the call failed: it would fail again however often it is
// delivered (a payload that is not JSON, an unknown orchestration, an invalid id, an event for an
// instance that does not exist or has ended). Anything else is the node's (a partition
// unavailable, a timeout, a storage failure), and the message is fine.
bool message_at_fault(const std::error_code& code) {
  return code == errc::invalid_argument || code == errc::payload || code == errc::unknown_function ||
         code == errc::instance_not_found || code == errc::instance_finished ||
         code == errc::instance_already_exists;
}

// 250 ms after the first failed delivery, doubling up to 10 s.
int64_t poison_retry_delay_ms(uint64_t delivered) {
  return std::min<int64_t>(250LL << std::min<uint64_t>(delivered - 1, 6), 10'000);
}

struct metadata_deleter {
  void operator()(jsMsgMetaData* m) const noexcept { jsMsgMetaData_Destroy(m); }
};

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

queue_trigger::queue_trigger(storage::jetstream_connection& nats, client& hub, queue_trigger_options options)
    : nats_(nats), hub_(hub), options_(std::move(options)) {
  if (options_.durable.empty()) options_.durable = "perdure_" + plain_name(options_.orchestration);
  try {
    storage::require_plain_name("the durable consumer name", options_.durable);
    if (!options_.stream.empty()) {
      storage::require_plain_name("the stream name", options_.stream);
      create_stream_if_missing();
    }
    // One after the other: the first creates the durable consumer, the others bind to it.
    for (uint32_t i = 0; i < options_.workers; ++i) subscriptions_.push_back(subscribe());
  } catch (const storage::store_error& e) {
    throw error(make_error_code(e.code()), "queue trigger on subject '" + options_.subject + "': " + e.what());
  }
  for (const auto& sub : subscriptions_)
    workers_.emplace_back([this, s = sub.get()](std::stop_token stop) { run(stop, s); });
  spdlog::info("queue trigger: subject '{}' {} '{}' through durable consumer '{}' ({} workers, instance id from "
               "header {})",
               options_.subject, options_.event.empty() ? "starts" : "raises '" + options_.event + "' on",
               options_.orchestration, options_.durable, options_.workers, options_.id_header);
}

queue_trigger::~queue_trigger() {
  for (auto& w : workers_) w.request_stop();
  workers_.clear();  // joins
  subscriptions_.clear();  // the durable consumer stays on the servers, with what was not acked
}

void queue_trigger::create_stream_if_missing() {
  jsStreamInfo* info = nullptr;
  jsErrCode code{};
  natsStatus s = storage::retry_transient(nats_, code, [&] {
    return js_GetStreamInfo(&info, nats_.context(), options_.stream.c_str(), nullptr, &code);
  });
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return;
  }
  if (s != NATS_NOT_FOUND && code != JSStreamNotFoundErr)
    storage::fail_jetstream(s, code, "cannot look up stream '" + options_.stream + "'");
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = options_.stream.c_str();
  const char* subjects[] = {options_.subject.c_str()};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  s = storage::retry_transient(nats_, code,
                               [&] { return js_AddStream(&info, nats_.context(), &config, nullptr, &code); });
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    spdlog::info("queue trigger: created stream '{}' for subject '{}'", options_.stream, options_.subject);
    return;
  }
  if (code == JSStreamNameExistErr) return;  // another node created it meanwhile
  storage::fail_jetstream(s, code, "cannot create stream '" + options_.stream + "'");
}

queue_trigger::subscription queue_trigger::subscribe() {
  jsSubOptions so;
  jsSubOptions_Init(&so);
  if (!options_.stream.empty()) so.Stream = options_.stream.c_str();
  so.Config.Durable = options_.durable.c_str();
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.DeliverPolicy = js_DeliverAll;
  so.Config.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.ack_wait).count();
  // No MaxDeliver: the trigger decides when a message is poison, because only it knows whether
  // the message or the node was at fault.
  natsSubscription* sub = nullptr;
  jsErrCode code{};
  const natsStatus s = storage::retry_transient(nats_, code, [&] {
    return js_PullSubscribe(&sub, nats_.context(), options_.subject.c_str(), options_.durable.c_str(), nullptr, &so,
                            &code);
  });
  if (s == NATS_OK) return subscription{sub};
  // libnats says why only in its (thread-local) last error, e.g. that it found no stream.
  const char* detail = nats_GetLastError(nullptr);
  const std::string why = detail ? detail : "";
  if (options_.stream.empty() && why.find("no stream matches subject") != std::string::npos)
    throw storage::store_error(storage::errc::invalid_argument,
                               "no JetStream stream holds subject '" + options_.subject +
                                   "': create one (nats stream add), or give stream=NAME for the node to create it");
  storage::fail_jetstream(s, code, "cannot consume through durable consumer '" + options_.durable + "'" +
                                       (why.empty() ? "" : " (" + why + ")"));
}

void queue_trigger::run(const std::stop_token& stop, natsSubscription* sub) {
  bool failing = false;  // log a fetch failure when it starts and when it ends, not every attempt
  while (!stop.stop_requested()) {
    natsMsgList list{};
    jsErrCode code{};
    const natsStatus s = natsSubscription_Fetch(&list, sub, fetch_batch, fetch_wait_ms, &code);
    if (s == NATS_TIMEOUT) continue;
    if (s != NATS_OK) {
      if (!failing)
        spdlog::warn("queue trigger on '{}': {}; retrying", options_.subject,
                     storage::describe("cannot fetch messages", s, code));
      failing = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(fetch_wait_ms));
      continue;
    }
    if (failing) spdlog::info("queue trigger on '{}': fetching messages again", options_.subject);
    failing = false;
    int i = 0;
    for (; i < list.Count && !stop.stop_requested(); ++i) handle(list.Msgs[i]);
    for (; i < list.Count; ++i) natsMsg_Nak(list.Msgs[i], nullptr);  // shutting down: back for the next consumer
    natsMsgList_Destroy(&list);
  }
}

void queue_trigger::handle(natsMsg* msg) {
  counters_.received.fetch_add(1, std::memory_order_relaxed);
  jsMsgMetaData* raw_meta = nullptr;
  if (const natsStatus s = natsMsg_GetMetaData(&raw_meta, msg); s != NATS_OK) {
    // Only a message published straight to the consumer's inbox has none: nothing to retry.
    spdlog::error("queue trigger on '{}': a message without JetStream metadata ({}), terminated", options_.subject,
                  natsStatus_GetText(s));
    natsMsg_Term(msg, nullptr);
    counters_.poison.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const std::unique_ptr<jsMsgMetaData, metadata_deleter> meta{raw_meta};
  const uint64_t delivered = meta->NumDelivered;
  if (delivered > 1) counters_.redeliveries.fetch_add(1, std::memory_order_relaxed);

  const char* header = nullptr;
  const bool has_id = natsMsgHeader_Get(msg, options_.id_header.c_str(), &header) == NATS_OK && header && *header;
  // The stream's sequence is the message's for good: a redelivery carries the same one.
  const std::string id = has_id ? std::string{header}
                                : std::string{meta->Stream} + ":" + std::to_string(meta->Sequence.Stream);
  const int length = natsMsg_GetDataLength(msg);
  std::string payload = length > 0 ? std::string{natsMsg_GetData(msg), static_cast<size_t>(length)} : "null";
  try {
    apply(id, std::move(payload), trace_headers_of(msg));
    // The start (or event) is durable: from here a redelivery finds the instance. A lost ack only
    // means one more delivery.
    if (const natsStatus s = natsMsg_Ack(msg, nullptr); s != NATS_OK)
      spdlog::warn("queue trigger on '{}': cannot ack the message of instance '{}' ({}); it will be delivered again "
                   "and find its instance",
                   options_.subject, id, natsStatus_GetText(s));
  } catch (const error& e) {
    if (!message_at_fault(e.code())) {
      counters_.retried.fetch_add(1, std::memory_order_relaxed);
      const int64_t now = now_ms();
      if (int64_t last = last_retry_log_ms_.load(); now - last >= 1'000 && last_retry_log_ms_.compare_exchange_strong(last, now))
        spdlog::warn("queue trigger on '{}': the node cannot take instance '{}' now ({}); its message is delivered "
                     "again in {} ms (logged at most once a second)",
                     options_.subject, id, e.what(), node_retry_delay_ms);
      natsMsg_NakWithDelay(msg, node_retry_delay_ms, nullptr);
      return;
    }
    if (delivered >= options_.max_deliveries) {
      spdlog::error("queue trigger on '{}': poison message set aside (terminated, never delivered again) after {} "
                    "deliveries: stream '{}' sequence {}, instance '{}': {}",
                    options_.subject, delivered, meta->Stream, meta->Sequence.Stream, id, e.what());
      natsMsg_Term(msg, nullptr);
      counters_.poison.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const int64_t delay = poison_retry_delay_ms(delivered);
    spdlog::warn("queue trigger on '{}': delivery {} of {} of the message for instance '{}' failed: {}; again in {} ms",
                 options_.subject, delivered, options_.max_deliveries, id, e.what(), delay);
    natsMsg_NakWithDelay(msg, delay, nullptr);
  } catch (const std::exception& e) {
    // Not an error of the client's model (e.g. out of memory): the node's, so the message is fine.
    counters_.retried.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("queue trigger on '{}': handling the message of instance '{}' failed: {}; it is delivered again in "
                  "{} ms",
                  options_.subject, id, e.what(), node_retry_delay_ms);
    natsMsg_NakWithDelay(msg, node_retry_delay_ms, nullptr);
  }
}

queue_trigger::trace_headers queue_trigger::trace_headers_of(natsMsg* msg) {
  const auto header = [msg](const char* name) {
    const char* value = nullptr;
    return natsMsgHeader_Get(msg, name, &value) == NATS_OK && value ? std::string{value} : std::string{};
  };
  return {header("traceparent"), header("tracestate")};
}

void queue_trigger::apply(const std::string& instance_id, std::string payload, trace_headers trace) {
  if (!options_.event.empty()) {
    hub_.raise_event(instance_id, options_.event, std::move(payload), std::move(trace.traceparent));
    counters_.events_raised.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // start(return_existing) leaves a running instance alone but starts an ended one again: a
  // message delivered after its instance completed must not, so an existing instance of any
  // status means this message was handled.
  if (hub_.status(instance_id)) {
    counters_.already_started.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  start_options start{instance_id, if_running::return_existing};
  start.traceparent = std::move(trace.traceparent);
  start.tracestate = std::move(trace.tracestate);
  hub_.start(options_.orchestration, std::move(payload), start);
  counters_.started.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace perdure
