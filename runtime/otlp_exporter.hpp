// The node's span exporter: OTLP over HTTP/JSON (`POST {endpoint}/v1/traces`) to a collector
// (docs/tracing.md). Partitions and activity workers submit finished spans; a background thread
// sends them in batches. The queue is bounded: when the collector is down or slow, spans that do
// not fit, and batches the collector does not accept, are dropped and counted
// (perdure_spans_dropped_total), so exporting never blocks a commit or an actor.
#pragma once

#include "actors/metrics.hpp"

#include <perdure/detail/span_record.hpp>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace perdure {

struct otlp_exporter_options {
  std::string endpoint;      // "http(s)://host:port" (a path prefix is kept: {endpoint}/v1/traces)
  std::string ca_file;       // https://: PEM CAs the collector's certificate may chain to; empty: the system's
  std::string service_name = "perdure";
  std::string node_id;       // service.instance.id; empty: none
  size_t max_queued_spans = 8192;
  size_t max_batch_spans = 512;
  std::chrono::milliseconds flush_interval{1000};  // a smaller batch waits at most this long
  std::chrono::milliseconds timeout{2000};          // connecting to, and waiting for, the collector
};

class otlp_exporter {
 public:
  /// Throws invalid_argument_error for an endpoint that is not http(s)://host[:port][/path], or a
  /// CA file given for http:// or that cannot be read.
  otlp_exporter(otlp_exporter_options options, actors::node_metrics& metrics);
  /// Sends what is queued (one last attempt, bounded by the timeout), then stops.
  ~otlp_exporter();
  otlp_exporter(const otlp_exporter&) = delete;
  otlp_exporter& operator=(const otlp_exporter&) = delete;

  /// Queues the spans, or drops (and counts) those that do not fit. Never blocks on the network.
  void submit(detail::span_records spans);

 private:
  void run();
  bool send(const detail::span_records& batch);

  otlp_exporter_options options_;
  std::string origin_;  // "http(s)://host:port"
  std::string path_;
  actors::node_metrics& metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<detail::span_record> queue_;
  bool stopping_ = false;
  bool failing_ = false;  // the last batch was not accepted (the exporter thread's)
  std::thread thread_;
};

}  // namespace perdure
